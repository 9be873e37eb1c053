#pragma once
/// \file crash_guard.hpp
/// The last line of defence against damaged files: HDF5 1.10 trusts some unchecksummed metadata
/// (a global heap object's length, where variable-length strings live), and a flipped bit there
/// makes H5HG_read copy out of bounds and crash. No check before the read can rule that out, so
/// the guard turns a crash inside libhdf5 into what any other damage gives: exit 3 with the file
/// and object being read. A crash with no libhdf5 frame on the stack is not ours to reinterpret:
/// it is re-raised as it came, so a bug of kktflow's own still crashes loudly.
namespace kktflow {

/// Exit code of a crash inside libhdf5 caught by the guard: the CLI's I/O error.
inline constexpr int kHdf5CrashExitCode = 3;

/// Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT (on an alternate stack)
/// that report "HDF5 file 'F', object 'O': the HDF5 library crashed (signal N) reading it…" and
/// exit with kHdf5CrashExitCode when libhdf5 is on the stack. Idempotent.
void install_hdf5_crash_guard();

/// Runs `handler` on SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, on an alternate stack (a crash
/// from a stack overflow still reaches it); with `once` the default action is restored first.
void handle_fatal_signals(void (*handler)(int), bool once);

/// Ends the process with `code`. When HDF5 could not close a file (a write failed, e.g. on a full
/// disk) it keeps the file and its exit handler, flushing it again, crashes: then stdio is
/// flushed and the process ends by _Exit, without that handler. Everything kktflow wrote went to
/// the file by its own flushes; nothing is lost.
[[noreturn]] void exit_process(int code);

}  // namespace kktflow
