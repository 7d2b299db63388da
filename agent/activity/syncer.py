"""The activity log's fsync helper: a tiny process of its own that appends the proxy's rendered
batches to the day file, fdatasyncs, and answers over a socket when they are on disk
(agent/activity/log.py, "group commit").

Why a process and not the writer thread: a Python thread needs the GIL again after every system
call, and the proxy's event loop thread holds it nearly all the time under load, so a writer
thread that woke up for a batch and again after its fsync waited up to the switch interval (5 ms)
each time: 1.6-3.4 ms added to every request for a 0.1 ms fdatasync. This process has its own
interpreter and never waits for the proxy's GIL; the proxy learns of the answer from a socket its
event loop already watches (`add_reader`), so no thread of the proxy wakes up at all.
Why the helper writes, not the event loop: a buffered write() usually takes microseconds, but it
starts a journal handle (file size, mtime) and can sleep on the journal, or on dirty-page
throttling while another program writes a lot, and on a hung disk it would block for good: the
event loop must never wait on the disk (the 10 s release of held responses runs on it). The loop
only sends on a non-blocking socket.

Protocol (an AF_UNIX SOCK_SEQPACKET pair: every send is one message). Proxy to helper: a header
(batch sequence number, 8 bytes little-endian; kind, 1 byte) and a body: OPEN (body: a day file's
name, relative to the activity directory whose descriptor the helper got at start): sync and close
the current file, open that one for appending; DATA (body: whole lines): append. A batch is one or
more messages with the same sequence number. The helper takes every message waiting, writes,
fdatasyncs once, and answers with the highest sequence number (8 bytes): every batch up to it is
on disk. A failed write or fdatasync is answered with FAILED | seq, and the helper exits: after a
write-back error Linux may have marked the pages clean, so a second fdatasync would succeed without
the data; the proxy's writer thread takes over and re-reads the chain from disk.

Lifetime: the helper exits when the socket reads end-of-file, which the kernel gives as soon as the
proxy's end is closed, by a clean close or by the proxy's death (even SIGKILL: no polling, no
parent-death signal to get wrong). SIGINT, SIGTERM and SIGHUP are ignored: a Ctrl-C or a service
stop reaches the whole process group, and the helper must outlive the proxy's own shutdown (which
flushes the log), never die before it.

Runs as `python -I -S syncer.py SOCKET_FD DIRECTORY_FD` (standard library only, no site: it
starts in milliseconds and holds a few MB).
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import sys

HEADER = struct.Struct("<QB")   # batch sequence number, kind
DATA, OPEN = 0, 1
ANSWER = struct.Struct("<Q")
FAILED = 1 << 63
RECEIVE = 1 << 20               # larger than any message the socket accepts (its send buffer)


def serve(sock: socket.socket, directory: int) -> int:
    """Writes and syncs until the proxy's end closes (0), or a write or fdatasync fails (1)."""
    fd: int | None = None       # the day file, opened for appending
    while True:
        seq, flags = None, 0
        try:
            while True:                            # every message waiting: one fdatasync for all
                try:
                    msg = sock.recv(RECEIVE, flags)
                except BlockingIOError:
                    break
                if not msg:                        # end of file: the proxy is gone or closed us
                    return 0
                flags = socket.MSG_DONTWAIT
                seq, kind = HEADER.unpack_from(msg)
                body = memoryview(msg)[HEADER.size:]
                if kind == OPEN:                   # a new day file: the old one synced once more, closed
                    if fd is not None:
                        os.fdatasync(fd)
                        os.close(fd)
                        fd = None
                    fd = os.open(bytes(body).decode("utf-8"), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                                 0o600, dir_fd=directory)
                elif fd is None:
                    raise OSError("data before any day file was named")
                else:
                    while body:                    # one write unless the disk is full or a signal cut it
                        body = body[os.write(fd, body):]
            if seq is None:
                continue
            os.fdatasync(fd)
        except OSError as exc:
            print(f"crossingguard activity fsync helper: {exc}", file=sys.stderr, flush=True)
            sock.send(ANSWER.pack((seq or 0) | FAILED))
            return 1
        sock.send(ANSWER.pack(seq))


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)    # module doc: outlive the proxy's own shutdown
    sock = socket.socket(fileno=int(argv[1]))
    sock.setblocking(True)
    try:
        return serve(sock, int(argv[2]))
    except (BrokenPipeError, ConnectionResetError):
        return 0                              # the proxy went away while we answered
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
