"""Schedule suggestions: where the unscheduled sessions could go (and, if asked, where
unpinned ones could move), so that every hard rule holds and the day is good for the
people in it. ``solver`` is the model, on plain data (minutes and ids), with a greedy
baseline to compare with."""
