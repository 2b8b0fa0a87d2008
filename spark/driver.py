"""The Spark driver of ingest-replica's `spark` engine (DESIGN.md §3.8).

The TypeScript step plans the ranges and commits; this driver only fans out: one Spark task per range, each
spawning the Node worker (`ingest-replica scan-range`), which scans its range, decrypts in memory and stages
Parquet parts. Usage (the step runs it through spark-submit):

    driver.py <plan.json> <results.json>

plan.json: {"name": ..., "worker": {"command": [...], "config": {...}}, "tasks": [...]}
results.json: the winning result of every task, in range order; or {"error": "..."} with exit code 3.

Why not RDD.pipe: its default checkCode=False turns a crashed worker into a silently missing range, and its
env replaces the whole environment. Here the exit code is checked, stderr is forwarded into the task's log,
and the worker gets PR_SET_PDEATHSIG so that it dies with its task's Python worker: a killed or cancelled task
never leaves a Node process writing to S3.
"""
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading

PR_SET_PDEATHSIG = 1
JOB_FAILED = 3


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the Python worker that spawned it dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def forward(stream, prefix, tail):
    """Worker stderr lines go to the task's stderr (its log in YARN), prefixed with the range and attempt."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        tail.append(line)
        del tail[:-20]
        sys.stderr.write(prefix + line + "\n")
        sys.stderr.flush()
    stream.close()


def run_range(worker, tasks, progress):
    def run(index, _items):
        from pyspark import TaskContext

        context = TaskContext.get()
        task = tasks[index]
        attempt = {"attemptNumber": context.attemptNumber(), "taskAttemptId": context.taskAttemptId()}
        prefix = "[ingest-replica range %d attempt %d] " % (index, attempt["attemptNumber"])
        stdin = json.dumps({"config": worker["config"], "task": task, "attempt": attempt}).encode("utf-8")
        child = subprocess.Popen(
            worker["command"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
            env=dict(os.environ, **worker.get("env", {}), INGEST_REPLICA_RANGE=str(index), INGEST_REPLICA_TASK_ATTEMPT=str(attempt["attemptNumber"])),
        )
        tail = []
        errors = threading.Thread(target=forward, args=(child.stderr, prefix, tail), daemon=True)
        errors.start()
        try:
            child.stdin.write(stdin)
            child.stdin.close()
        except BrokenPipeError:
            pass  # the worker died early: its exit code says why
        out = child.stdout.read()
        child.wait()
        errors.join()
        if child.returncode != 0:
            how = "was killed by signal %d" % -child.returncode if child.returncode < 0 else "exited with code %d" % child.returncode
            raise RuntimeError("range %d: the Node worker %s; its last lines:\n%s" % (index, how, "\n".join(tail[-5:])))
        lines = [l for l in out.decode("utf-8").splitlines() if l.strip()]
        if len(lines) != 1:
            head = " | ".join(l[:200] for l in lines[:3])
            raise RuntimeError("range %d: the Node worker printed %d result lines, expected 1: %s" % (index, len(lines), head))
        result = json.loads(lines[0])
        if result.get("range") != index:
            raise RuntimeError("range %d: the Node worker answered for range %r" % (index, result.get("range")))
        # Applied on the driver when this task succeeds (a failed attempt's update is dropped).
        progress.add((1, int(result.get("records", 0))))
        yield lines[0]

    return run


PROGRESS_PREFIX = "[ingest-replica progress] "


def report_progress(progress, tasks, finished):
    """Prints the finished ranges and their records (the step shows them) when they change, each second and at the end."""
    last = None
    stop = False
    while not stop:
        stop = finished.wait(1.0)
        current = progress.value
        if current != last:
            last = current
            sys.stdout.write(PROGRESS_PREFIX + json.dumps({"tasksDone": current[0], "tasks": tasks, "records": current[1]}) + "\n")
            sys.stdout.flush()


def main(plan_path, results_path):
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    from pyspark import AccumulatorParam, SparkContext

    class Pair(AccumulatorParam):
        def zero(self, value):
            return (0, 0)

        def addInPlace(self, a, b):
            return (a[0] + b[0], a[1] + b[1])

    sc = SparkContext(appName=plan["name"])
    sc.setLogLevel("WARN")
    tasks = plan["tasks"]
    try:
        # One partition per range: partition i runs task i (a retried task keeps its range).
        rdd = sc.parallelize(range(len(tasks)), len(tasks))
        progress = sc.accumulator((0, 0), Pair())
        finished = threading.Event()
        reporter = threading.Thread(target=report_progress, args=(progress, len(tasks), finished), daemon=True)
        reporter.start()
        try:
            results = rdd.mapPartitionsWithIndex(run_range(plan["worker"], tasks, progress)).collect()
        finally:
            finished.set()
            reporter.join()
    except Exception as error:  # the job failed: a task spent its attempts, or the job was cancelled
        message = str(error).split("\n")
        # The task's own error (the last attempt's RuntimeError), else Spark's first line.
        reason = next((l[len("RuntimeError: "):] for l in reversed(message) if l.startswith("RuntimeError: ")), message[0])
        with open(results_path, "w", encoding="utf-8") as f:
            json.dump({"error": reason[:2000]}, f)
        sc.stop()
        return JOB_FAILED
    with open(results_path, "w", encoding="utf-8") as f:
        f.write("[" + ",".join(results) + "]")
    sc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
