"""Item quality: item analysis (``analysis``) and re-keying with regrading (``regrade``)."""
