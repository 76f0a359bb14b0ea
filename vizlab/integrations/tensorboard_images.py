"""SummaryWriter's image, figure, audio and video methods (a mixin of vizlab.integrations.tensorboard's writer)
and their renderers: boxes drawn with Pillow, WAV via the stdlib `wave` module, GIF via Pillow."""

import base64
import io
import os
import wave

import numpy as np
import torch

from vizlab.integrations.tensorboard_panes import as_array
from vizlab.logger import values

IMAGE_STEPS = 20   # steps an image window keeps for its slider (vizlab.image_history); the journal keeps all


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
        drawn = draw_boxes(hwc_uint8(image), box_tensor, labels, rescale)
        self._images("image", tag, torch.from_numpy(drawn.copy()).permute(2, 0, 1)[None], global_step)

    def _images(self, kind, tag, images, global_step, **options):
        """options: VisdomLogger.images' labels=, caption= (the wandb adapter's captions)."""
        step = self._step(tag, global_step)
        win = self._window(kind, tag)
        self.logger.images(win, images, nrow=min(8, len(images)), title=self._title(win, step),
                           history=IMAGE_STEPS, **options)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """A playable audio pane (16-bit WAV in a data URI), the latest clip."""
        step = self._step(tag, global_step)
        win = self._window("audio", tag)
        src = wav_data_uri(snd_tensor, sample_rate)
        self.logger.text(win, f"<audio controls src='{src}'></audio><p>{sample_rate} Hz</p>",
                         title=self._title(win, step), width=340, height=130)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """The videos (N, T, C, H, W) tiled, as one animated GIF at `fps` frames a second."""
        step = self._step(tag, global_step)
        win = self._window("video", tag)
        frames = video_frames(vid_tensor)
        height, width = frames[0].shape[:2]
        self.logger.text(win, f"<img src='{gif_data_uri(frames, fps)}' width={max(width, 160)}>",
                         title=self._title(win, step), width=max(width, 160) + 40,
                         height=max(height, 160 * height // width) + 70)


def hwc_uint8(image):
    """(1|3, H, W) uint8 or floats in [0, 1] -> uint8 (H, W, 3)."""
    if image.is_floating_point():
        image = (image.float().clamp(0, 1) * 255).round().to(torch.uint8)
    image = image.expand(3, -1, -1) if image.shape[0] == 1 else image
    return np.ascontiguousarray(image.permute(1, 2, 0).numpy())


def to_nchw(img, dataformats, method):
    """An image (batch) in any of TensorBoard's layouts -> (N, 1|3, H, W) tensor (integers as
    floats in 0..1, as TensorBoard takes them)."""
    return values.to_nchw(img, dataformats, method, ints_as_float=True).cpu()


def figure_to_array(figure, close):
    return values.figure_pixels(figure, close)


def wav_data_uri(samples, sample_rate):
    """(L,), (1, L) or (2, L) floats in [-1, 1] -> 'data:audio/wav;base64,...' (16-bit PCM)."""
    x = as_array(samples)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[0] not in (1, 2):
        raise ValueError(f"add_audio: snd_tensor of shape {tuple(x.shape)}; use (L,) or (1, L) "
                         "(or (2, L) for stereo) with values in [-1, 1]")
    pcm = (np.clip(np.nan_to_num(x), -1, 1) * 32767).round().astype("<i2").T.tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(x.shape[0])
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm)
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def video_frames(video):
    """(N, T, C, H, W) uint8 or floats in [0, 1] -> T frames (H', W', 3) uint8, the N videos tiled."""
    v = as_array(video, None)
    if v.ndim != 5 or v.shape[2] not in (1, 3, 4):
        raise ValueError(f"add_video: vid_tensor of shape {tuple(v.shape)}; use (N, T, C, H, W) "
                         "with C = 1, 3 or 4")
    if v.dtype != np.uint8:
        v = (np.clip(np.nan_to_num(v.astype(np.float64)), 0, 1) * 255).round().astype(np.uint8)
    v = np.repeat(v, 3, axis=2) if v.shape[2] == 1 else v[:, :, :3]
    n, t, c, h, w = v.shape
    columns = int(np.ceil(np.sqrt(n)))
    rows = -(-n // columns)
    grid = np.zeros((t, rows * h, columns * w, 3), np.uint8)
    for i in range(n):
        r, k = divmod(i, columns)
        grid[:, r * h:(r + 1) * h, k * w:(k + 1) * w] = v[i].transpose(0, 2, 3, 1)
    return list(grid)


def gif_data_uri(frames, fps):
    from PIL import Image
    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(20, int(1000 / fps)), loop=0)
    return "data:image/gif;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def draw_boxes(image_hwc, boxes, labels, rescale):
    """uint8 (H, W, 3) with each (xmin, ymin, xmax, ymax) box drawn in red, its label on it."""
    from PIL import Image, ImageDraw
    picture = Image.fromarray(image_hwc)
    if rescale != 1:
        picture = picture.resize((round(picture.width * rescale), round(picture.height * rescale)))
    draw = ImageDraw.Draw(picture)
    boxes = as_array(boxes).reshape(-1, 4) * rescale
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"add_image_with_boxes: {len(labels)} labels for {len(boxes)} boxes")
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        draw.rectangle([x0, y0, x1, y1], outline=(255, 0, 0), width=2)
        if labels is not None:
            left, top, right, bottom = draw.textbbox((x0 + 2, y0 + 1), str(labels[i]))
            draw.rectangle([left - 1, top - 1, right + 1, bottom + 1], fill=(255, 0, 0))
            draw.text((x0 + 2, y0 + 1), str(labels[i]), fill=(255, 255, 255))
    return np.asarray(picture)


def rgb_uint8(image, key):
    """A tensor (CHW or HW), array (HWC or HW), PIL image or file path -> uint8 (H, W, 3)."""
    from PIL import Image
    if isinstance(image, (str, os.PathLike)):
        image = Image.open(image)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        image = (image.permute(1, 2, 0) if image.ndim == 3 else image).numpy()   # tensors are CHW
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or not isinstance(array.flat[0].item(), (int, float)):
        raise ValueError(f"log_image({key!r}): an image of shape {array.shape}; use CHW tensors, "
                         "HWC arrays, PIL images or file paths")
    if array.dtype != np.uint8:
        array = (np.clip(np.nan_to_num(array.astype(np.float64)), 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array[..., :3]


def same_size(arrays):
    """(N, 3, H, W) uint8 tensor: each image padded (black) to the largest height and width."""
    h, w = max(a.shape[0] for a in arrays), max(a.shape[1] for a in arrays)
    batch = np.zeros((len(arrays), h, w, 3), np.uint8)
    for i, a in enumerate(arrays):
        batch[i, :a.shape[0], :a.shape[1]] = a
    return torch.from_numpy(batch).permute(0, 3, 1, 2)
