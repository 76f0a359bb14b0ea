"""SummaryWriter's image, figure, audio and video methods (a mixin of vizlab.tensorboard's writer)."""

import numpy as np
import torch

from vizlab import tensorboard_panes as panes


class ImageMethods:
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._images("image", tag, to_nchw(img_tensor, dataformats, "add_image"), global_step)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._images("image", tag, to_nchw(img_tensor, dataformats, "add_images"), global_step)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them), rendered with the headless Agg canvas."""
        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        images = [figure_to_array(f, close) for f in figures]
        if len({im.shape for im in images}) > 1:
            raise ValueError(f"add_figure({tag!r}): figures in one call must have the same size")
        self._images("image", tag, torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2), global_step)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats="CHW", labels=None):
        """The image with each box (xmin, ymin, xmax, ymax, in pixels) drawn, its label on it."""
        image = to_nchw(img_tensor, dataformats, "add_image_with_boxes")[0]
        drawn = panes.draw_boxes(hwc_uint8(image), box_tensor, labels, rescale)
        self._images("image", tag, torch.from_numpy(drawn.copy()).permute(2, 0, 1)[None], global_step)

    def _images(self, kind, tag, images, global_step):
        step = self._step(tag, global_step)
        win = self._window(kind, tag)
        self.logger.images(win, images, nrow=min(8, len(images)), title=self._title(win, step))

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """A playable audio pane (16-bit WAV in a data URI), the latest clip."""
        step = self._step(tag, global_step)
        win = self._window("audio", tag)
        src = panes.wav_data_uri(snd_tensor, sample_rate)
        self.logger.text(win, f"<audio controls src='{src}'></audio><p>{sample_rate} Hz</p>",
                         title=self._title(win, step), width=340, height=130)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """The videos (N, T, C, H, W) tiled, as one animated GIF at `fps` frames a second."""
        step = self._step(tag, global_step)
        win = self._window("video", tag)
        frames = panes.video_frames(vid_tensor)
        height, width = frames[0].shape[:2]
        self.logger.text(win, f"<img src='{panes.gif_data_uri(frames, fps)}' width={max(width, 160)}>",
                         title=self._title(win, step), width=max(width, 160) + 40,
                         height=max(height, 160 * height // width) + 70)


def hwc_uint8(image):
    """(1|3, H, W) uint8 or floats in [0, 1] -> uint8 (H, W, 3)."""
    if image.is_floating_point():
        image = (image.float().clamp(0, 1) * 255).round().to(torch.uint8)
    image = image.expand(3, -1, -1) if image.shape[0] == 1 else image
    return np.ascontiguousarray(image.permute(1, 2, 0).numpy())


def to_nchw(img, dataformats, method):
    """An image (batch) in any of TensorBoard's layouts -> (N, 1|3, H, W) tensor."""
    if isinstance(img, np.ndarray):
        img = torch.from_numpy(np.ascontiguousarray(img))
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"{method}: img_tensor must be a tensor or NumPy array, got {type(img).__name__}")
    fmt = dataformats.upper() if isinstance(dataformats, str) else ""
    if not (set(fmt) <= set("NCHW") and len(set(fmt)) == len(fmt) == img.ndim and {"H", "W"} <= set(fmt)):
        raise ValueError(f"{method}: dataformats={dataformats!r} does not fit a tensor of shape "
                         f"{tuple(img.shape)}; use e.g. 'CHW', 'HWC', 'HW' (one image) or 'NCHW', 'NHWC'")
    img = img.detach().cpu()
    for axis in "NC":
        if axis not in fmt:
            img, fmt = img.unsqueeze(0), axis + fmt
    img = img.permute(*(fmt.index(a) for a in "NCHW"))
    if img.shape[1] == 4:
        img = img[:, :3]   # RGBA: Visdom shows RGB
    if img.dtype not in (torch.uint8,) and not img.is_floating_point():
        img = img.float()
    if img.shape[1] not in (1, 3):
        raise ValueError(f"{method}: images must have 1, 3 or 4 channels, got {img.shape[1]}")
    return img


def figure_to_array(figure, close):
    """RGB uint8 (H, W, 3) of a matplotlib figure via the Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # matplotlib only when used
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    if close:
        import matplotlib.pyplot as plt
        plt.close(figure)
    return image
