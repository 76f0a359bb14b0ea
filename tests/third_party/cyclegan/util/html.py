# Not CycleGAN's file: its util/html.py writes the HTML pages with `dominate`, which the tests do
# not install; they run with no_html, so this stand-in only lets `from . import util, html` import.
class HTML:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("CycleGAN's HTML pages are not part of these tests (no_html=True)")
