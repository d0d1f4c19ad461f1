from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from siamlab.datasets import load_dataset, synth
from siamlab.datasets.formats import (
    read_boxes,
    read_got10k,
    read_lasot,
    read_otb,
    read_vot,
    write_boxes,
    write_got10k,
    write_otb,
)


def write_frames(folder: Path, count: int, digits: int, suffix: str = ".jpg") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(1, count + 1):
        Image.fromarray(np.full((12, 16, 3), 10 * index, np.uint8)).save(
            folder / f"{index:0{digits}d}{suffix}"
        )


# --- text files
# ---------------------------------------------------------------------------------


def test_read_boxes_converts_one_based_rows_with_any_separator(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("11,21,30,40\n12\t22\t30\t40\n13 23 30 40\n\n")
    np.testing.assert_allclose(
        read_boxes(path), [[10, 20, 30, 40], [11, 21, 30, 40], [12, 22, 30, 40]]
    )


def test_read_boxes_turns_a_polygon_into_its_axis_aligned_box(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("11,1,21,11,11,21,1,11\n")  # a diamond centred on (11, 11), 1-based
    np.testing.assert_allclose(read_boxes(path), [[0, 0, 20, 20]])


def test_read_boxes_names_the_file_and_line_of_a_malformed_row(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ValueError, match=r"gt.txt:2: expected 4 values"):
        read_boxes(path)
    path.write_text("1,2,3,4\n1,2,x,4\n")
    with pytest.raises(ValueError, match=r"gt.txt:2: expected numbers"):
        read_boxes(path)


def test_read_boxes_rejects_masks_empty_and_missing_files(tmp_path):
    (tmp_path / "mask.txt").write_text("m1,2,3,4,5\n")
    with pytest.raises(ValueError, match="masks"):
        read_boxes(tmp_path / "mask.txt")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="no boxes"):
        read_boxes(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError):
        read_boxes(tmp_path / "missing.txt")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            *[st.floats(-100, 500, allow_nan=False)] * 2, *[st.floats(0.5, 300)] * 2
        ),
        min_size=1,
        max_size=6,
    )
)
def test_written_boxes_read_back_the_same(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("boxes") / "b.txt"
    write_boxes(path, np.array(rows))
    np.testing.assert_allclose(read_boxes(path), np.array(rows), atol=1e-4)


def test_absent_rows_are_written_as_zeros_and_read_as_absent(tmp_path):
    write_boxes(tmp_path / "gt.txt", np.array([[1.0, 2, 3, 4], [np.nan] * 4]))
    assert (tmp_path / "gt.txt").read_text().splitlines()[1] == "0,0,0,0"


# --- readers on fixture folders in each benchmark's layout
# ---------------------------------------


def test_otb_reader_handles_two_targets_and_one_based_boxes(tmp_path):
    write_frames(tmp_path / "Jogging" / "img", 3, 4)
    (tmp_path / "Jogging" / "groundtruth_rect.1.txt").write_text(
        "2,3,4,5\n2,3,4,5\n2,3,4,5\n"
    )
    (tmp_path / "Jogging" / "groundtruth_rect.2.txt").write_text(
        "6\t7\t4\t5\n6\t7\t4\t5\n0\t0\t0\t0\n"
    )
    write_frames(tmp_path / "Basketball" / "img", 2, 4)
    (tmp_path / "Basketball" / "groundtruth_rect.txt").write_text("1,1,8,8\n2,2,8,8\n")
    sequences = read_otb(tmp_path)
    assert [s.name for s in sequences] == ["Basketball", "Jogging.1", "Jogging.2"]
    np.testing.assert_allclose(sequences[1].boxes[0], [1, 2, 4, 5])
    assert sequences[2].absent.tolist() == [False, False, True]
    assert sequences[0].frame(1)[0, 0, 0] == pytest.approx(20, abs=2)


def test_otb_reader_starts_sequences_whose_annotation_starts_late(tmp_path):
    write_frames(tmp_path / "BlurCar3" / "img", 5, 4)
    (tmp_path / "BlurCar3" / "groundtruth_rect.txt").write_text(
        "1,1,4,4\n1,1,4,4\n1,1,4,4\n"
    )
    sequence = read_otb(tmp_path)[0]
    assert sequence.metadata["files"][0].endswith("0003.jpg") and len(sequence) == 3


def test_got10k_reader_uses_list_order_and_absence_labels(tmp_path):
    for name in ("GOT-10k_Val_000002", "GOT-10k_Val_000001"):
        write_frames(tmp_path / name, 3, 8)
        (tmp_path / name / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n3,3,5,5\n")
        (tmp_path / name / "absence.label").write_text("0\n1\n0\n")
    (tmp_path / "list.txt").write_text("GOT-10k_Val_000002\nGOT-10k_Val_000001\n")
    sequences = read_got10k(tmp_path)
    assert [s.name for s in sequences] == ["GOT-10k_Val_000002", "GOT-10k_Val_000001"]
    assert sequences[0].absent.tolist() == [False, True, False]
    np.testing.assert_allclose(sequences[0].boxes[2], [2, 2, 5, 5])


def test_got10k_reader_refuses_the_test_split_with_only_a_first_box(tmp_path):
    write_frames(tmp_path / "GOT-10k_Test_000001", 3, 8)
    (tmp_path / "GOT-10k_Test_000001" / "groundtruth.txt").write_text("1,1,5,5\n")
    with pytest.raises(ValueError, match="first frame"):
        read_got10k(tmp_path)


def test_lasot_reader_marks_full_occlusion_and_out_of_view_as_absent(tmp_path):
    folder = tmp_path / "airplane" / "airplane-1"
    write_frames(folder / "img", 4, 8)
    (folder / "groundtruth.txt").write_text("1,1,5,5\n1,1,5,5\n1,1,5,5\n1,1,5,5\n")
    (folder / "full_occlusion.txt").write_text("0,1,0,0")
    (folder / "out_of_view.txt").write_text("0,0,0,1")
    sequence = read_lasot(tmp_path)[0]
    assert sequence.name == "airplane-1"
    assert sequence.absent.tolist() == [False, True, False, True]


def test_vot_reader_reads_polygons_color_folders_and_tags(tmp_path):
    folder = tmp_path / "ball"
    write_frames(folder / "color", 2, 8)
    (folder / "groundtruth.txt").write_text("2,2,12,2,12,7,2,7\n3,2,13,2,13,7,3,7\n")
    (folder / "occlusion.tag").write_text("0\n1\n")
    (tmp_path / "list.txt").write_text("ball\n")
    sequence = read_vot(tmp_path)[0]
    np.testing.assert_allclose(sequence.boxes, [[1, 1, 10, 5], [2, 1, 10, 5]])
    assert sequence.attributes == ("OCC",)
    assert sequence.frame(0).shape == (12, 16, 3)


def test_a_ground_truth_longer_than_the_images_is_an_error(tmp_path):
    write_frames(tmp_path / "Seq" / "img", 1, 4)
    (tmp_path / "Seq" / "groundtruth_rect.txt").write_text("1,1,4,4\n1,1,4,4\n")
    with pytest.raises(ValueError, match="2 boxes but only 1 images"):
        read_otb(tmp_path)


# --- writers and load_dataset
# --------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_sequences():
    return synth.make_sequences(synth.SynthConfig("test", 9, 12, seed=5))[
        5:7
    ]  # OCC and OV


@pytest.mark.parametrize("writer, spec", [(write_otb, "otb"), (write_got10k, "got10k")])
def test_synthtrack_written_to_a_layout_reads_back_the_same(
    tmp_path, synth_sequences, writer, spec
):
    writer(synth_sequences, tmp_path, image_format="png")
    loaded = load_dataset(f"{spec}:{tmp_path}")
    for original, copy in zip(synth_sequences, loaded):
        assert copy.name == original.name and copy.attributes == original.attributes
        np.testing.assert_array_equal(copy.absent, original.absent)
        visible = ~original.absent
        np.testing.assert_allclose(
            copy.boxes[visible], original.boxes[visible], atol=1e-4
        )
        np.testing.assert_array_equal(copy.frame(3), original.frame(3))


def test_got10k_writer_records_visible_eighths(tmp_path, synth_sequences):
    write_got10k(synth_sequences[:1], tmp_path)
    cover = read_got10k(tmp_path)[0].metadata["cover_label"]
    expected = np.round(8 * (1 - synth_sequences[0].metadata["cover"])).astype(int)
    np.testing.assert_array_equal(
        cover, np.where(synth_sequences[0].absent, 0, expected)
    )


def test_load_dataset_rejects_unknown_specs_and_missing_folders(tmp_path):
    for spec in ("synth", "coco:/data", "otb:", "otb"):
        with pytest.raises(ValueError, match="dataset spec"):
            load_dataset(spec)
    with pytest.raises(FileNotFoundError):
        load_dataset(f"otb:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="max_sequences"):
        load_dataset("synth-test", max_sequences=0)
