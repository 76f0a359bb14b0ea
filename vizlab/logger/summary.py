"""What VisdomLogger says about a run: one line at start (where to watch, where the journal is) and
ONE line at close, computed from its counts (never assumed): calls accepted, journaled and
delivered, where to watch, and whatever the plots do not show as logged."""

from urllib.parse import quote

SHOW = 3   # windows or traces named in the closing line; the count is always whole


def env_url(url, env):
    """Where env's windows are watched: URL/env/NAME."""
    return f"{url}/env/{quote(env, safe='')}"


def opening_line(env, url, journal_path, resumed_at=None):
    """'env 'X': watch at URL/env/X; journal: PATH'."""
    where = f"watch at {env_url(url, env)}" if url else "nothing is sent to a server (send=False)"
    if journal_path is None:
        return f"env {env!r}: {where}; no journal (journal=False)"
    resumed = f" (resumed at byte {resumed_at})" if resumed_at else ""
    return f"env {env!r}: {where}; journal: {journal_path}{resumed}"


def lost(stats):
    """Accepted calls the journal does not hold: not logged, missed by the disk, never written."""
    return stats["dropped"] + stats["journal_missed"] + stats["unwritten"]


def closing_line(env, stats, journal_path, queue_size, close_timeout, delivery=None):
    """The one line said at close. stats: VisdomLogger.stats; delivery: None when nothing is sent,
    else a dict: url (the server), done (every window is on it, checked), sent (every window was
    sent, the check may not have finished), windows (the run's), behind (names the server lacks
    or is behind on), absent (how many of those it does not hold at all)."""
    accepted = stats["accepted"]
    head = f"closed env {env!r}"
    if delivery is not None:
        head += f" ({env_url(delivery['url'], env)})"
    parts = [f"{accepted} calls accepted", _journaled(stats, journal_path), _delivered(stats, delivery)]
    notes = _notes(stats, journal_path, queue_size)
    if delivery is not None and not delivery["done"]:
        notes.append(_behind(delivery, close_timeout, journal_path))
    elif delivery is None and journal_path is not None:
        notes.append(f"to see it: vizlab replay {journal_path}")
    return f"{head}: " + ", ".join(parts) + "".join(f"; {note}" for note in notes)


def live_view_note(delivery, journal_path):
    """The status pane's words for a whole journal and a server behind at close."""
    replay = f"; vizlab replay {journal_path}" if journal_path else ""
    return f"at close the server was behind on {len(delivery['behind'])} of {delivery['windows']} windows{replay}"


def _journaled(stats, journal_path):
    if journal_path is None:
        return "no journal (journal=False)" + (f", {lost(stats)} lost: {_why(stats)}" if lost(stats) else "")
    if not lost(stats):
        return f"{stats['journaled']} journaled ({journal_path})"
    return (f"journal incomplete: {journal_path} holds {stats['journaled']} of them "
            f"({_why(stats)})")


def _why(stats):
    parts = [f"{stats['dropped']} could not be logged, see above"] if stats["dropped"] else []
    if stats["journal_missed"]:
        parts.append(f"{stats['journal_missed']} missed the journal, disk full; the live view had them")
    if stats["unwritten"]:
        parts.append(f"{stats['unwritten']} never written: the journal thread failed")
    return "; ".join(parts)


def _delivered(stats, delivery):
    if delivery is None:
        return "none sent (send=False)"
    if delivery["done"] or delivery["sent"]:
        # what the live view holds: every call but those that never reached the window model
        return f"{stats['accepted'] - stats['dropped'] - stats['unwritten']} delivered"
    if delivery["absent"] >= delivery["windows"]:
        return "none delivered"
    return "not all delivered"


def _behind(delivery, close_timeout, journal_path):
    url, behind, windows = delivery["url"], delivery["behind"], delivery["windows"]
    hint = f"; replay: vizlab replay {journal_path}" if journal_path else ""
    if delivery["sent"]:
        return (f"every window was sent to Visdom at {url}, but checking that it holds them did not "
                f"finish within close_timeout={close_timeout} s{hint}")
    if delivery["absent"] >= windows:
        return f"Visdom at {url} holds none of the run's {windows} windows{hint}"
    if delivery["absent"] == len(behind):
        return f"Visdom at {url} lacks {len(behind)} of the run's {windows} windows ({_names(behind)}){hint}"
    absent = f", {delivery['absent']} of them not at all" if delivery["absent"] else ""
    return (f"Visdom at {url} is behind on {len(behind)} of the run's {windows} windows "
            f"({_names(behind)}{absent}){hint}")


def _notes(stats, journal_path, queue_size):
    notes = []
    if stats["nonfinite"]:
        notes.append(f"{stats['nonfinite']} NaN/Inf values shown as gaps (the journal keeps them)")
    decimated = sorted(stats["decimated"].items())
    if decimated:
        shown = ", ".join(f"{win!r}/{trace!r} {logged} logged, {kept} shown"
                          for (win, trace), (logged, kept) in decimated[:SHOW])
        more = f" and {len(decimated) - SHOW} more" if len(decimated) > SHOW else ""
        whole = "; the journal has every point" if journal_path and not lost(stats) else ""
        notes.append(f"{len(decimated)} traces decimated to min/max per x-bucket ({shown}{more}{whole})")
    if stats["waits"]:
        notes.append(f"calls waited {stats['waited_s']:.3f} s in all ({stats['waits']} times) for the "
                     f"journal to catch up (queue_size={queue_size})")
    if stats["errors"]:
        notes.append(f"{stats['errors']} error{'s' if stats['errors'] > 1 else ''} (see the warnings above)")
    return notes


def _names(names):
    first = ", ".join(map(repr, names[:SHOW]))
    return first + (f" and {len(names) - SHOW} more" if len(names) > SHOW else "")
