"""What the logger counts that the plots do not show, in one object: each field has one writer
(the journal thread or the sender thread), so no count needs a lock; `VisdomLogger.stats` reads
them all, with the journal thread's progress (calls accepted, written, journaled, missed)."""

import dataclasses


@dataclasses.dataclass
class Counts:
    nonfinite: int = 0        # NaN/Inf values drawn as gaps (journal thread)
    dropped: int = 0          # calls that could not be logged (journal thread)
    journal_errors: int = 0   # errors reported by the journal thread
    send_errors: int = 0      # errors reported by the sender thread
    refused: int = 0          # windows the server refused (sender thread)
