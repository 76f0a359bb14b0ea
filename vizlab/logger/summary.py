"""What VisdomLogger says at close, computed from its counts (never assumed): what the plots do
not show as logged, any caller wait, and calls accepted vs. kept in the journal vs. delivered."""


def closing_summary(stats, journal_path, queue_size, close_timeout, delivered, sent=None, url=None,
                    incomplete=None):
    """The lines to say. stats: VisdomLogger.stats; sent: calls the sender got onto the server at
    `url` (None: no sender); incomplete: where the journal first missed calls (disk full)."""
    lines = []
    lost = stats["dropped"] + stats["journal_missed"] + stats["unwritten"]
    journal_whole = journal_path is not None and not lost
    if stats["nonfinite"]:
        lines.append(f"{stats['nonfinite']} NaN/Inf values were shown as gaps (the journal keeps them)")
    for (win, trace), (logged, shown) in sorted(stats["decimated"].items()):
        lines.append(f"window {win!r} trace {trace!r}: {logged} points logged, {shown} shown "
                     "(min and max of every x-bucket kept)" + ("; the journal has every point" if journal_whole else ""))
    if stats["waits"]:
        lines.append(f"logging calls waited {stats['waited_s']:.3f} s in total ({stats['waits']} times) "
                     f"for the journal to catch up (queue_size={queue_size})" + ("" if lost else "; nothing was dropped"))
    if lost:
        lines.append(_accounting(stats, journal_path, incomplete))
    if stats["errors"]:
        lines.append(f"{stats['errors']} errors (see the warnings above)")
    if not delivered and sent is not None:
        done = min(sent, stats["accepted"])
        hint = f": vizlab replay {journal_path}" if journal_path else ""
        missing = f" (it misses {lost} calls)" if lost and journal_path else ""
        if done >= stats["accepted"]:   # sent, but the check that the server has them timed out
            lines.append(f"every call was sent to Visdom at {url}, but checking that it holds them did "
                         f"not finish within close_timeout={close_timeout} s; if a window looks "
                         f"incomplete, replay the journal{hint}{missing}")
        else:
            lines.append(f"not everything reached Visdom at {url} (the first {done} of "
                         f"{stats['accepted']} calls did); replay the journal later{hint}{missing}")
    return lines


def _accounting(stats, journal_path, incomplete):
    where = f"the journal {journal_path}" if journal_path else "the live view"
    parts = [f"{stats['dropped']} could not be logged (see above)"] if stats["dropped"] else []
    if stats["journal_missed"]:
        parts.append(f"{stats['journal_missed']} missed the journal (disk full from "
                     f"{incomplete} on; the live view had them)")
    if stats["unwritten"]:
        parts.append(f"{stats['unwritten']} were never written (the journal thread stopped)")
    return f"of {stats['accepted']} calls accepted, {where} holds {stats['journaled']}: " + "; ".join(parts)
