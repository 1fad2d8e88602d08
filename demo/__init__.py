"""`python -m bot demo`: the whole bot working offline against the emulator, self-checked."""
