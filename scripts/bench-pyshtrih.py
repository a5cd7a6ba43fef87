"""Receipts made by pyshtrih 2.0.6 against a virtual register, for comparison with our driver.

Usage: bench-pyshtrih.py PORT CONTROL_SOCKET RECEIPTS [WAIT_TIME]

Makes RECEIPTS copies of the three-item receipt of driver::bench::sample_receipt through
pyshtrih's own calls: open_check (which first waits for the printer: a pause of
Device.WAIT_TIME, then 0x10), sale (0x80) per item, close_check (0x85), wait_printing (pause,
0x10). WAIT_TIME, when given, replaces pyshtrih's pause (0.01 s as shipped).

Bytes and round trips are not taken from pyshtrih: the register's own counters are read over
its control socket (`status`) before and after the timed receipts. Prints one JSON line.
"""

import json
import socket
import statistics
import sys
import time

import pyshtrih

# (name, quantity in thousandths, price in kopecks, tax group): 0x80 takes them so (§7.6.6).
# Tax groups of the default mapping: 1 = 22 %, 2 = 10 %.
ITEMS = [
    (u"Молоко 3,2% 1 л", 2000, 8990, 2),
    (u"Хлеб бородинский", 1000, 4500, 1),
    (u"Сыр российский, кг", 500, 14940, 1),
]
CASH = 27500
CARD = 2450


def counters(control):
    """The register's counters since its start, from the control socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(control)
    s.sendall(b"status\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data.decode("utf-8"))["counters"]


def receipt(device):
    device.open_check(0)
    for name, quantity, price, group in ITEMS:
        device.sale((name, quantity, price), department_num=1, tax1=group)
    device.close_check(cash=CASH, payment_type2=CARD)
    device.wait_printing()


def main():
    port, control, receipts = sys.argv[1], sys.argv[2], int(sys.argv[3])
    device = pyshtrih.ShtrihM01F(port=port, baudrate=115200, timeout=5)
    if len(sys.argv) > 4:
        device.WAIT_TIME = float(sys.argv[4])
    device.connect()
    receipt(device)  # warm-up
    before = counters(control)
    times = []
    started = time.perf_counter()
    for _ in range(receipts):
        t = time.perf_counter()
        receipt(device)
        times.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    after = counters(control)
    device.disconnect()
    delta = {k: after[k] - before[k] for k in after if isinstance(after[k], int)}
    print(json.dumps({
        "receipts": receipts,
        "wait_time": device.WAIT_TIME,
        "seconds": elapsed,
        "median_seconds": statistics.median(times),
        "counters": delta,
    }))


if __name__ == "__main__":
    main()
