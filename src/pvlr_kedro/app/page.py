"""The page, laid out with Gradio: upload images, type class names, see ranked scores and a class's
attention. Served on 127.0.0.1 only, analytics off; Gradio ships its fonts and frontend, so the
page requests nothing from elsewhere."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before Gradio reads it

import gradio as gr  # noqa: E402  (the optional app extra, configured just above)

from pvlr_kedro.app.try_model import (  # noqa: E402
    PageProblem,
    Scored,
    TryModel,
    message,
    scores_html,
)

TITLE = "PVLR: try a trained model"


def build_page(model: TryModel) -> gr.Blocks:
    """The page of ``model``: its inputs, the scores, the attention picture, the run's summary."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as page:
        gr.Markdown(f"# {TITLE}")
        with gr.Accordion("The run: recipe and test metrics", open=False):
            gr.Markdown(model.summary, elem_id="run-summary")
        scored = gr.State(None)
        with gr.Row():
            with gr.Column():
                files = gr.File(label="Images", file_count="multiple", elem_id="images")
                names = gr.Textbox(
                    label="Class names (commas or new lines; any words)",
                    value=", ".join(model.trained_names),
                    lines=3,
                    elem_id="names",
                )
                threshold = gr.Slider(0.01, 0.99, value=0.5, step=0.01, label="Threshold")
                top_k = gr.Slider(1, 20, value=3, step=1, label="Top k")
                per_class = gr.Checkbox(
                    label="The run's per-class thresholds (where chosen)",
                    value=False,
                    interactive=bool(model.thresholds),
                    elem_id="per-class",
                )
                score = gr.Button("Score", variant="primary", elem_id="score")
            with gr.Column():
                said = gr.Markdown(elem_id="message")
                table = gr.HTML(elem_id="scores")
        with gr.Row():
            image = gr.Dropdown(label="Image", choices=[], elem_id="attention-image")
            name = gr.Dropdown(label="Class", choices=[], elem_id="attention-class")
            show = gr.Button("Show attention", elem_id="show-attention")
        overlay = gr.Image(label="Attention", type="pil", elem_id="overlay", interactive=False)

        def on_score(uploaded, text, bar, k, own):
            try:
                result = model.score(list(uploaded or []), text)
            except PageProblem as problem:
                return str(problem), "", None, gr.update(), gr.update()
            shown = list(result.files)
            return (
                message(result),
                scores_html(result, model.cutoffs(result.classes, bar, own), int(k)),
                result,
                gr.update(choices=shown, value=shown[0] if shown else None),
                gr.update(choices=result.classes, value=None),
            )

        def on_settings(result: Scored | None, bar, k, own):
            if result is None:
                return ""
            return scores_html(result, model.cutoffs(result.classes, bar, own), int(k))

        def on_show(result: Scored | None, chosen_image, chosen_name):
            if result is None or not chosen_image or not chosen_name:
                return None, "Score images, then choose an image and a class."
            try:
                return model.attention(result, chosen_image, chosen_name), ""
            except PageProblem as problem:
                return None, str(problem)

        score.click(
            on_score,
            [files, names, threshold, top_k, per_class],
            [said, table, scored, image, name],
        )
        for setting in (threshold, top_k, per_class):
            setting.change(on_settings, [scored, threshold, top_k, per_class], table)
        show.click(on_show, [scored, image, name], [overlay, said])
    return page


def serve(model: TryModel, port: int) -> gr.Blocks:
    """Start the page on 127.0.0.1:``port`` in this process; ``block_thread()`` keeps it serving."""
    page = build_page(model)
    page.queue(default_concurrency_limit=1)
    page.launch(
        server_name="127.0.0.1",
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=True,
        quiet=True,
    )
    return page
