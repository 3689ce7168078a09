"""A delay line for bench/door.py: every byte between the phones and the server arrives RTT/2 late each way.

This machine's kernel has no `netem` queueing discipline (`tc qdisc add … netem` answers "Specified qdisc kind
is unknown"), so the round trip a hall's Wi-Fi puts between a phone and the portal is made here, in user space:
a TCP relay on 127.0.0.1 that holds each chunk for half the round trip before passing it on, in order, in both
directions. The server sees what it would see through netem: a request that trickles in late (its worker
waits for it) and a client that acknowledges late.

    python -m bench.delayline <listen port> <upstream port> <rtt ms>
"""

import asyncio
import sys
import time


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    delivering = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((time.monotonic() + delay, None))
    try:
        await delivering
    except (ConnectionError, OSError):
        pass


def relay(upstream_port, delay):
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay))
        for writer in (server_writer, client_writer):
            writer.close()

    return handle


async def serve(listen_port, upstream_port, rtt_ms):
    server = await asyncio.start_server(relay(upstream_port, rtt_ms / 2000), "127.0.0.1", listen_port, backlog=4096)
    async with server:
        await server.serve_forever()


def run(coroutine):
    """uvloop's event loop where installed (a dev dependency): the harness's own CPU is the server's loss."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    run(serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
