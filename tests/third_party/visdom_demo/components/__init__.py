# From fossasia/visdom v0.2.4, example/components/__init__.py, unchanged below this header.
# Copyright 2017-present, The Visdom Authors. Apache License 2.0: see ../LICENSE.

