"""Tools that run on the operator's machine (never inside Lambda): running the program
under a mock monitor, the embedded emulator, deployed-stack checks, and the CLIs."""
