"""Kokoro's graph with a durations output: made once from the pinned model, kept, checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from reader.engines import kokoro_model
from reader.engines.kokoro_graph import DURATIONS, FRAME_SAMPLES, with_durations
from reader.engines.kokoro_model import STYLE_WIDTH, model_source, part_paths, session
from reader.errors import EngineUnavailable


def test_the_model_gives_each_tokens_frames_and_they_add_up_to_its_audio(
        session_cache: Path) -> None:
    model = session(part_paths(), 0, session_cache / "kokoro")
    tokens = [0, 50, 156, 43, 135, 16, 53, 135, 46, 0]  # a few phonemes, padded
    style = np.zeros((1, STYLE_WIDTH), dtype=np.float32) + 0.1
    audio, durations = model.run(["audio", DURATIONS], {
        "tokens": np.array([tokens], dtype=np.int64), "style": style,
        "speed": np.array([1.0], dtype=np.float32)})
    assert durations.shape == (1, len(tokens)) and durations.dtype == np.int64
    assert (durations >= 1).all()
    assert int(durations.sum()) * FRAME_SAMPLES == audio.size


def test_the_rewritten_model_is_kept_once_and_remade_when_altered(tmp_path: Path) -> None:
    folder = tmp_path / "kokoro"
    first = model_source(part_paths(), folder)
    assert isinstance(first, str)
    model, digest = sorted(folder.iterdir())
    assert model.suffix == ".onnx" and digest.suffix == ".sha256"
    written = model.stat().st_mtime_ns
    assert model_source(part_paths(), folder) == first
    assert model.stat().st_mtime_ns == written  # checked, not written again

    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    assert model_source(part_paths(), folder) == first
    assert onnx.load(first).graph.output[-1].name == DURATIONS  # remade whole from the parts


def test_an_unusable_folder_gives_the_model_as_bytes(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    source = model_source(part_paths(), blocked / "kokoro")
    assert isinstance(source, bytes) and len(source) > kokoro_model.MODEL_BYTES // 2


def test_a_graph_that_is_not_kokoros_is_refused_clearly() -> None:
    node = helper.make_node("Identity", ["x"], ["y"], name="something")
    graph = helper.make_graph(
        [node], "other", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    other = helper.make_model(graph).SerializeToString()
    with pytest.raises(EngineUnavailable, match="graph is not the one expected"):
        with_durations(other)
