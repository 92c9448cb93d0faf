"""The programme committee's arithmetic: a review's total, each reviewer's leniency taken
out of their scores, and the table the committee decides from. Pure functions over rows
read in bulk; the writes are in ``services.reviews``."""
