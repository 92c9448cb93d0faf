"""One person's data in an organisation, on their request (GDPR art. 15 and 17): what is
held about them (``holdings``), and its erasure in the background (``erasure``)."""
