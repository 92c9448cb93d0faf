"""`make bench`'s sections, one module each (api, eventday, rush, solver), what they share
(common) and the floors outside the product they compare with (floor). scripts/bench.py
runs them; no section imports another."""
