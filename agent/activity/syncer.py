"""The activity log's fsync helper: a tiny process of its own that fdatasyncs the day file for the
proxy and answers over a socket when it did (agent/activity/log.py, "group commit").

Why a process and not the writer thread: a Python thread needs the GIL again after every system
call, and the proxy's event loop thread holds it nearly all the time under load, so a thread that
wakes up for a batch and again after its fsync waited up to the switch interval (5 ms) each time:
1.6-3.4 ms added to every request for a 0.1 ms fdatasync. This process has its own interpreter
and never waits for the proxy's GIL; the proxy learns of the answer from a socket its event loop
already watches (`add_reader`), so no thread of the proxy has to wake up at all.

Protocol (an AF_UNIX SOCK_SEQPACKET pair, so every send is one message): after each batch it has
written (a plain write(), into the page cache), the proxy sends its sequence number (8 bytes,
little-endian), with the day file's descriptor attached (SCM_RIGHTS) whenever that file changed
(startup, midnight, a resume). The helper takes every message waiting, fdatasyncs each file
written since its last answer (fdatasync flushes the inode, whichever descriptor wrote the pages),
and answers with the highest sequence number: every batch up to it is on disk. A failed
fdatasync is answered with FAILED | seq and the helper exits: after a write-back error Linux may
have marked the pages clean, so a second fdatasync would succeed without the data (the proxy then
commits in its writer thread and re-reads the chain from disk).

Lifetime: the helper exits when the socket reads end-of-file, which the kernel gives as soon as
the proxy's end is closed, by a clean close or by the proxy's death (even SIGKILL: no polling, no
parent-death signal to get wrong). SIGINT, SIGTERM and SIGHUP are ignored: a Ctrl-C or a service
stop reaches the whole process group, and the helper must outlive the proxy's own shutdown
(which flushes the log), never die before it.

Runs as `python -I -S syncer.py FD` (standard library only, no site: it starts in milliseconds).
"""
from __future__ import annotations

import array
import os
import signal
import socket
import struct
import sys

SEQ = struct.Struct("<Q")
FAILED = 1 << 63


MAX_FDS = 16   # day files in one request (more than one only when a full socket held requests back)


def receive(sock: socket.socket, flags: int) -> tuple[bytes, list[int]]:
    """One message and the descriptors it carries. (socket.recv_fds of Python 3.11 drops its
    `flags` argument, and MSG_DONTWAIT is what lets us take every waiting message at once.)"""
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(SEQ.size, socket.CMSG_SPACE(MAX_FDS * fds.itemsize), flags)
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return msg, list(fds)


def serve(sock: socket.socket) -> int:
    """Answers sync requests until the proxy's end closes (0), or a fdatasync fails (1)."""
    current: int | None = None   # the day file's descriptor (the last one the proxy sent)
    while True:
        seq, retired, flags = None, [], 0
        while True:                                # every message waiting: one fdatasync for all
            try:
                msg, fds = receive(sock, flags)
            except BlockingIOError:
                break
            if not msg:                            # end of file: the proxy is gone or closed us
                for fd in fds:
                    os.close(fd)
                return 0
            flags = socket.MSG_DONTWAIT
            for fd in fds:                         # a new day file: sync the old one once more, then close it
                if current is not None:
                    retired.append(current)
                current = fd
            seq = SEQ.unpack(msg)[0]
        if seq is None:
            continue
        try:
            for fd in retired + ([current] if current is not None else []):
                os.fdatasync(fd)
        except OSError as exc:
            print(f"crossingguard activity fsync helper: fdatasync failed: {exc}", file=sys.stderr, flush=True)
            sock.send(SEQ.pack(seq | FAILED))
            return 1
        finally:
            for fd in retired:
                os.close(fd)
        sock.send(SEQ.pack(seq))


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)    # module doc: outlive the proxy's own shutdown
    sock = socket.socket(fileno=int(argv[1]))
    sock.setblocking(True)
    try:
        return serve(sock)
    except (BrokenPipeError, ConnectionResetError):
        return 0                              # the proxy went away while we answered
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
