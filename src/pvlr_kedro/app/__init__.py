"""A local page to try a trained run: ``kedro app --run <run>`` (the optional ``app`` extra).

``try_model`` holds what the page does (plain Python, tested without a browser), ``loading``
finds the run through the project's catalog, ``page`` lays it out with Gradio.
"""
