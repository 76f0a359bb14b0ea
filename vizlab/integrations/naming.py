"""What the adapters share: how tags become windows and traces (`tag_window`, `window_name`,
`split_phase`), how a run folder becomes an env of its own (`folder_run`), and how long the end of
training waits for delivery."""

import os


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


# Folder names that say what a folder holds, not which run: SummaryWriter("exp1/train") and
# SummaryWriter("exp2/train") are different runs, so their envs take the parent's name too.
GENERIC_FOLDERS = PHASE_WORDS + ("runs", "run", "logs", "log", "tensorboard", "tb", "tb_logs", "events",
                                 "summaries", "output", "outputs", "out")


def folder_run(log_dir, journal_name="vizlab"):
    """(env, journal path) of a run writing to `log_dir`: the env is the folder's name (with its
    parent's when the name is generic: 'exp1_train'), the journal `log_dir/vizlab.jsonl`. A folder
    an earlier run wrote to (its journal is there: accelerate's logging_dir/project, a script run
    twice) gives the next free number to both: env 'tracking-2', journal 'vizlab-2.jsonl', so the
    runs never share windows."""
    path = os.path.normpath(os.path.abspath(log_dir))
    name = os.path.basename(path)
    if name.lower() in GENERIC_FOLDERS and os.path.basename(os.path.dirname(path)):
        name = f"{os.path.basename(os.path.dirname(path))}_{name}"
    env, journal, n = window_name(name), os.path.join(str(log_dir), f"{journal_name}.jsonl"), 1
    while os.path.exists(journal) and os.path.getsize(journal) > 0:
        n += 1
        journal = os.path.join(str(log_dir), f"{journal_name}-{n}.jsonl")
    return (env if n == 1 else f"{env}-{n}"), journal
