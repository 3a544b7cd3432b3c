"""What the page does, without a browser: scores as the Predictor's, messages for bad input, the
bars, the attention picture, the run's summary."""

import numpy as np
import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from PIL import Image

from pvlr_kedro.app.loading import page_model
from pvlr_kedro.app.try_model import PageProblem, Scored, TryModel, class_names, scores_html
from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.pvlr import Predictor, build_model


@pytest.fixture(scope="module")
def tried(demo_project):
    bootstrap_project(demo_project)
    with KedroSession.create(project_path=demo_project) as session:
        context = session.load_context()
        context.params  # noqa: B018  (resolved while the working directory is the project's)
        return page_model(context, "demo", None, "ema")


def test_the_page_scores_new_names_as_the_predictor_does(tried, demo_project):
    files = sorted((demo_project / "data/01_raw/demo/test").glob("*.jpg"))[:3]
    names = ["dog", "zebra", "person"]
    scored = tried.score([str(f) for f in files], "dog, zebra\nperson, dog")
    bundle = load_run_model(str(demo_project / "data/06_models"), "demo").model
    expected = Predictor.from_bundle(bundle)(files, names)
    assert list(scored.scores.columns) == ["path", *names]
    assert list(scored.scores["path"]) == [f.name for f in files]
    np.testing.assert_allclose(scored.scores[names], expected[names], atol=1e-6)


def test_unreadable_files_are_named_and_the_rest_scored(tried, demo_project, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    image = sorted((demo_project / "data/01_raw/demo/test").glob("*.jpg"))[0]
    scored = tried.score([str(text), str(image)], "dog")
    assert list(scored.scores["path"]) == [image.name]
    assert set(scored.unreadable) == {"notes.png"}
    assert str(tmp_path) not in scored.unreadable["notes.png"]  # the upload's name, not its path
    only_text = tried.score([str(text)], "dog")
    assert only_text.scores.empty and "notes.png" in only_text.unreadable


@pytest.mark.parametrize("text", ["", " , \n ", ","])
def test_no_class_name_is_a_message(text):
    with pytest.raises(PageProblem, match="Class names: an empty list"):
        class_names(text)


def test_no_image_is_a_message(tried):
    with pytest.raises(PageProblem, match="Upload one or more images"):
        tried.score([], "dog")


def test_a_classifier_learning_run_asked_for_new_names_says_so_and_keeps_working(demo_project):
    image = Image.open(sorted((demo_project / "data/01_raw/demo/test").glob("*.jpg"))[0])
    path = demo_project / "classifier_test.png"
    image.save(path)
    config = {"backbone": "pvlr-tiny-rn", "pretrained": None, "image_size": 64, "kap": False}
    model = build_model({**config, "cap": "none", "centers": "classifier"}, ["dog", "cat"])
    vocabulary = {"names": ["dog", "cat"], "prompt_names": ["dog", "cat"]}
    page = TryModel(Predictor(model, vocabulary, device="cpu"), "classifier")
    before = page.score([str(path)], "dog, cat").scores
    with pytest.raises(
        PageProblem, match="Run `classifier` cannot score these names: .*classifier"
    ):
        page.score([str(path)], "dog, unicorn")
    after = page.score([str(path)], "dog, cat").scores
    pd.testing.assert_frame_equal(before, after)


def test_the_bars_mark_labels_by_each_class_threshold_and_carry_exact_scores():
    scores = pd.DataFrame({"path": ["a.jpg"], "dog": [0.6], "cat": [0.3], "kite": [0.05]})
    scored = Scored(scores, {})
    shown = scores_html(scored, {"dog": 0.5, "cat": 0.25, "kite": 0.5}, top_k=1)
    assert 'data-class="dog" data-score="0.6"' in shown and 'data-score="0.3"' in shown
    labels = shown.count('class="class-score label"')
    assert labels == 2  # dog ≥ 0.5 and cat ≥ 0.25
    assert "<summary>1 more</summary>" in shown  # kite, below the two labels, folded
    strict = scores_html(scored, {"dog": 0.7, "cat": 0.7, "kite": 0.7}, top_k=1)
    assert strict.count('class="class-score label"') == 0
    assert "<summary>2 more</summary>" in strict


def test_the_run_thresholds_apply_only_when_asked(tried):
    tried.thresholds = {"dog": 0.123}
    classes = ["dog", "person"]
    try:
        assert tried.cutoffs(classes, 0.5, per_class=True)["dog"] == 0.123
        assert tried.cutoffs(classes, 0.5, per_class=False)["dog"] == 0.5
        assert tried.cutoffs(classes, 0.4, per_class=True)["person"] == 0.4
    finally:
        tried.thresholds = {}


def test_the_attention_picture_of_a_chosen_class(tried, demo_project):
    image = sorted((demo_project / "data/01_raw/demo/test").glob("*.jpg"))[0]
    scored = tried.score([str(image)], "dog, zebra")
    picture = tried.attention(scored, image.name, "zebra")
    assert picture.mode == "RGB" and min(picture.size) > 100
    with pytest.raises(PageProblem, match="'cat' is not among the class names"):
        tried.attention(scored, image.name, "cat")


def test_the_summary_gives_the_run_version_metrics_and_recipe(tried):
    assert f"**Run `demo`**, version `{tried.predictor.version}`, ema model." in tried.summary
    assert "| ema |" in tried.summary and "| final |" in tried.summary
    assert '"backbone"' in tried.summary
