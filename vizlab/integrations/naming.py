"""What the adapters share: how tags become windows and traces (`tag_window`, `window_name`,
`split_phase`), and how long the end of training waits for delivery."""


NUMBERS = (int, float)
# Seconds the end of training waits for delivery. Short, since nothing is lost by not waiting: the
# logger keeps sending, its journal has everything, and it closes (draining all) at exit.
END_WAIT = 2.0


def split_phase(name, phases):
    """'train_loss', 'train/loss' -> ('loss', 'train') when 'train' is in `phases`; else None."""
    for phase in phases:
        for sep in ("_", "/"):
            if name.startswith(phase + sep) and len(name) > len(phase) + 1:
                return name[len(phase) + 1:].replace("/", "_"), phase
    return None


# Words that name a phase of a run, not a metric: as a tag's first part ('train/loss', the
# transformers convention) they become the trace, the rest the window.
PHASE_WORDS = ("train", "training", "val", "valid", "validation", "eval", "evaluation", "test")


def tag_window(tag):
    """The naming rule for TensorBoard tags: (window, trace).

    'Loss/train', 'Loss/test' -> ('Loss', 'train'), ('Loss', 'test')   # metric first (torch's docs)
    'train/loss', 'eval/loss' -> ('loss', 'train'), ('loss', 'eval')   # phase first (transformers)
    'train/learning_rate'     -> ('learning_rate', 'train')            # a metric of its own: own axis
    'lr'                      -> ('lr', 'lr')
    """
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError(f"tag must be a non-empty string, got {tag!r}")
    first, _, rest = tag.partition("/")
    if not (first.strip() and rest.strip()):
        return window_name(tag), tag
    if first.lower() in PHASE_WORDS:
        return window_name(rest), first
    return window_name(first), rest


def window_name(name):
    """A Visdom window id from any tag: '/' is not allowed there (ids end up in URLs and files)."""
    name = name.replace("/", "_").replace("\\", "_").replace("..", "_").strip()
    return name or "value"
