"""Renderers for SummaryWriter's richer add_* methods: pure functions from the caller's data to
what a Visdom pane shows (HTML for text panes, Plotly traces for figures). The image, audio and
video renderers are in vizlab.integrations.tensorboard_images.
"""

import html

import numpy as np
import torch

from vizlab.palette import BLUE, GREY, color

PR_STEPS_SHOWN = 10   # precision-recall curves drawn per tag (the latest in bold)
LABEL_IMAGES = 500    # label images drawn on an embedding's scatter
MIN_COUNT = 1e-7      # TensorBoard's floor for the denominators of precision and recall


def as_array(values, dtype=float):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


# ------------------------------------------------------------------ add_graph, add_onnx_graph

def shape_of(output):
    """A module's output as shapes: [4, 10]; a tuple of them; {key: shape} for dict-like outputs."""
    if isinstance(output, torch.Tensor):
        return list(output.shape)
    if isinstance(output, dict):
        return {k: shape_of(v) for k, v in output.items() if shape_of(v) is not None}
    if isinstance(output, (tuple, list)):
        shapes = [shape_of(v) for v in output]
        return [s for s in shapes if s is not None] or None
    return None


def module_outputs(model, inputs):
    """{module name: output shape} from one forward pass (no grad, eval mode, modes restored)."""
    shapes, hooks = {}, []

    def record(name, output):   # returns None: a hook's return value would replace the output
        shapes.setdefault(name, shape_of(output))

    for name, module in model.named_modules():
        hooks.append(module.register_forward_hook(lambda _m, _in, out, name=name: record(name, out)))
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()   # no BatchNorm statistics updated, no dropout drawn by this pass
        with torch.no_grad():
            if isinstance(inputs, dict):
                model(**inputs)
            elif isinstance(inputs, (tuple, list)):
                model(*inputs)
            else:
                model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
        for module, mode in modes.items():
            module.training = mode
    return shapes


def graph_html(model, shapes):
    """The module tree as a table: each module's type, output shape and parameter count."""
    head = "<tr><th align=left>module</th><th align=left>output shape</th><th align=right>parameters</th></tr>"
    rows = []
    for name, module in model.named_modules():
        depth = name.count(".") + 1 if name else 0
        own = sum(p.numel() for p in module.parameters(recurse=False))
        total = sum(p.numel() for p in module.parameters())
        count = f"{total:,}" if own == total else f"{total:,} (own {own:,})"
        label = f"{html.escape(name.rsplit('.', 1)[-1]) or 'model'}: {html.escape(type(module).__name__)}"
        shape = shapes.get(name)
        rows.append(f"<tr><td style='padding-left:{16 * depth}px'>{label}</td>"
                    f"<td style='padding:0 12px'>{html.escape(str(shape)) if shape is not None else '-'}</td>"
                    f"<td align=right>{count}</td></tr>")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    note = "" if shapes else "<p>no input given: output shapes need input_to_model</p>"
    return (f"<p><b>{html.escape(type(model).__name__)}</b>: {total:,} parameters ({trainable:,} trainable)</p>"
            f"{note}<table style='font-family:monospace;font-size:12px'>{head}{''.join(rows)}</table>")


def onnx_html(path):
    try:
        import onnx
    except ImportError:
        raise ImportError("add_onnx_graph needs the 'onnx' package to read the model file: "
                          "pip install onnx (or show the torch model with add_graph)") from None
    graph = onnx.load(str(path)).graph
    rows = "".join(f"<tr><td>{html.escape(n.op_type)}</td><td>{html.escape(', '.join(n.input))}</td>"
                   f"<td>{html.escape(', '.join(n.output))}</td></tr>" for n in graph.node)
    return (f"<p><b>{html.escape(graph.name or str(path))}</b>: {len(graph.node)} nodes</p>"
            "<table style='font-family:monospace;font-size:12px'><tr><th align=left>op</th>"
            f"<th align=left>inputs</th><th align=left>outputs</th></tr>{rows}</table>")


# ------------------------------------------------------------------ add_embedding

def pca_2d(mat):
    """(N, D) -> ((N, 2) coordinates on the first two principal components, variance fractions)."""
    x = as_array(mat, np.float64).reshape(len(mat), -1)
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    coords = x @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
    total = float((s ** 2).sum()) or 1.0
    return coords, [float(v) / total for v in (s[:2] ** 2)] + [0.0] * (2 - len(s[:2]))


def metadata_labels(metadata, n, header):
    """One label per point: the metadata as given, or its first column when it has several."""
    if metadata is None:
        return None
    labels = [m.item() if isinstance(m, torch.Tensor) else m for m in list(metadata)]
    if len(labels) != n:
        raise ValueError(f"add_embedding: metadata has {len(labels)} entries for {n} points")
    if header and all(isinstance(m, (list, tuple)) for m in labels):
        labels = [m[0] for m in labels]
    return [str(m) for m in labels]


def label_images(label_img, coords):
    """Plotly layout images: each point's label image (N, C, H, W) drawn at the point (at most
    LABEL_IMAGES of them), a thirtieth of the plot's extent in size."""
    from vizlab.logger.render import png_data_url
    from vizlab.integrations.tensorboard_images import hwc_uint8, to_nchw
    images = to_nchw(label_img, "NCHW", "add_embedding")
    if len(images) != len(coords):
        raise ValueError(f"add_embedding: label_img has {len(images)} images for {len(coords)} points")
    size = float(np.ptp(coords, axis=0).max() or 1.0) / 30
    return [{"source": png_data_url(hwc_uint8(image)), "xref": "x", "yref": "y", "x": float(x), "y": float(y),
             "sizex": size, "sizey": size, "xanchor": "center", "yanchor": "middle", "layer": "above"}
            for image, (x, y) in zip(images[:LABEL_IMAGES], coords[:LABEL_IMAGES].tolist())]


def embedding_figure(mat, labels, title, label_img=None):
    coords, explained = pca_2d(mat)
    groups = {}
    for i, label in enumerate(labels or ["points"] * len(coords)):
        groups.setdefault(label, []).append(i)
    traces = [{"type": "scatter", "mode": "markers", "name": label, "text": [label] * len(idx),
               "x": coords[idx, 0].round(5).tolist(), "y": coords[idx, 1].round(5).tolist(),
               "marker": {"size": 7, "color": color(k)}} for k, (label, idx) in enumerate(groups.items())]
    layout = {"title": title, "showlegend": labels is not None,
              "xaxis": {"title": f"PC1 ({explained[0]:.0%} of the variance)"},
              "yaxis": {"title": f"PC2 ({explained[1]:.0%} of the variance)"}}
    if label_img is not None:
        layout["images"] = label_images(label_img, coords)
    return traces, layout


def stepped_figure(history):
    """history: [(step, traces, layout)] oldest first -> (traces, layout) of one figure showing the
    latest step, a slider under it choosing any step (each step's traces shown alone). Label images
    are kept for the latest step only (an embedding's can be 500 pictures)."""
    step, traces, layout = history[-1]
    if len(history) < 2:
        return traces, layout
    counts = [len(t) for _, t, _ in history]
    every = [dict(t, visible=k == len(history) - 1) for k, (_, ts, _) in enumerate(history) for t in ts]
    steps, start = [], 0
    for k, (s, ts, lay) in enumerate(history):
        visible = [start <= i < start + counts[k] for i in range(len(every))]
        start += counts[k]
        steps.append({"label": str(s), "method": "update",
                      "args": [{"visible": visible}, {"title": lay.get("title"), "xaxis.title": lay["xaxis"]["title"],
                                                     "yaxis.title": lay["yaxis"]["title"],
                                                     "images": lay.get("images", []) if k == len(history) - 1 else []}]})
    slider = {"active": len(history) - 1, "steps": steps, "currentvalue": {"prefix": "step "}, "pad": {"t": 40}}
    return every, dict(layout, sliders=[slider])


# ------------------------------------------------------------------ add_pr_curve(_raw)

def pr_counts(labels, predictions, num_thresholds, weights):
    """Precision and recall at num_thresholds thresholds in [0, 1], as TensorBoard computes them."""
    truth = as_array(labels).reshape(-1) > 0
    scores = np.clip(as_array(predictions).reshape(-1), 0, 1)
    if truth.size != scores.size:
        raise ValueError(f"add_pr_curve: {truth.size} labels for {scores.size} predictions")
    w = np.ones_like(scores) if weights is None else as_array(weights).reshape(-1) * np.ones_like(scores)
    buckets = np.floor(scores * (num_thresholds - 1)).astype(np.int64)
    tp = np.cumsum(np.bincount(buckets, truth * w, num_thresholds)[::-1])[::-1]
    fp = np.cumsum(np.bincount(buckets, ~truth * w, num_thresholds)[::-1])[::-1]
    fn = tp[0] - tp
    return tp / np.maximum(MIN_COUNT, tp + fp), tp / np.maximum(MIN_COUNT, tp + fn)


def pr_figure(tag, history):
    """history: [(step, precision, recall)], oldest first; the latest drawn bold, the others faint."""
    shown = history[-PR_STEPS_SHOWN:]
    traces = []
    for k, (step, precision, recall) in enumerate(shown):
        latest = k == len(shown) - 1
        traces.append({"type": "scatter", "mode": "lines", "name": f"step {step}",
                       "x": np.round(recall, 5).tolist(), "y": np.round(precision, 5).tolist(),
                       "line": {"color": BLUE if latest else GREY, "width": 3 if latest else 1},
                       "opacity": 1.0 if latest else 0.45})
    layout = {"title": f"{tag}: precision-recall (step {shown[-1][0]})",
              "xaxis": {"title": "recall", "range": [0, 1.02]},
              "yaxis": {"title": "precision", "range": [0, 1.02]}}
    return traces, layout


# ------------------------------------------------------------------ add_mesh, add_image_with_boxes

def mesh_figure(tag, vertices, colors, faces, step):
    """The first mesh of the batch as a Plotly mesh3d (a point cloud when faces is None)."""
    v = as_array(vertices)
    v = v[0] if v.ndim == 3 else v
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"add_mesh: vertices of shape {tuple(as_array(vertices).shape)}; use (B, N, 3)")
    trace = {"x": v[:, 0].tolist(), "y": v[:, 1].tolist(), "z": v[:, 2].tolist()}
    rgb = None
    if colors is not None:
        c = as_array(colors, np.int64)
        c = c[0] if c.ndim == 3 else c
        rgb = [f"rgb({r},{g},{b})" for r, g, b in c[:, :3].tolist()]
    if faces is None:
        trace.update(type="scatter3d", mode="markers", marker={"size": 3, "color": rgb or BLUE})
    else:
        f = as_array(faces, np.int64)
        f = f[0] if f.ndim == 3 else f
        trace.update(type="mesh3d", i=f[:, 0].tolist(), j=f[:, 1].tolist(), k=f[:, 2].tolist())
        trace.update(vertexcolor=rgb) if rgb else trace.update(color=BLUE)
    return [trace], {"title": f"{tag} (step {step})", "scene": {"aspectmode": "data"}}


# ------------------------------------------------------------------ add_tensor, tables

def tensor_html(tensor):
    x = tensor.detach().cpu() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    array = x.numpy() if isinstance(x, torch.Tensor) else x
    text = np.array2string(array, threshold=200, precision=4)
    return f"<p>shape {tuple(array.shape)}, dtype {html.escape(str(x.dtype))}</p><pre>{html.escape(text)}</pre>"


def table_html(columns, rows):
    """A plain HTML table, a header row of <th> cells over the rows."""
    head = "".join(f"<th align=left style='padding-right:12px'>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='padding-right:12px'>{html.escape(str(v))}</td>" for v in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


# ------------------------------------------------------------------ histograms

def plain_values(values, tag):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    values = np.asarray(values, dtype=float).reshape(-1)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"add_histogram({tag!r}): no finite values to count")
    return values


def histogram_heatmap(tag, history, rows):
    """Each step's counts re-binned onto one common value grid, so the steps line up."""
    low = min(edges[0] for _, edges, _ in history)
    high = max(edges[-1] for _, edges, _ in history)
    grid = np.linspace(low, high if high > low else low + 1, rows + 1)
    columns = [np.diff(np.interp(grid, edges, cumulative)) for _, edges, cumulative in history]
    steps = [step for step, _, _ in history]
    trace = {"type": "heatmap", "x": steps, "y": ((grid[:-1] + grid[1:]) / 2).tolist(),
             "z": np.stack(columns, axis=1).round(3).tolist(), "colorscale": "Viridis",
             "colorbar": {"title": "count"}}
    layout = {"title": f"{tag} (latest step {steps[-1]})", "xaxis": {"title": "step"},
              "yaxis": {"title": "value"}}
    return [trace], layout
