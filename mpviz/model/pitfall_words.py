"""The words of each pitfall (see :mod:`mpviz.model.pitfalls` for the list): the docs' section it is
in, what it is in a line (for the help screen), and the sentence that names it in a run."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.state import Model

# The docs' section of each pitfall, and the words of each.
SECTIONS = {
    "feeder": "Joining processes that use queues",
    "main_guard": "Safe importing of main module",
    "pickle": "Picklability",
    "terminated": "Avoid terminating processes",
    "zombie": "Joining zombie processes",
    "shm": "multiprocessing.shared_memory",
    "pool_results": "Process Pools",
    "pool_stuck": "Process Pools",
    "callback": "Process Pools",
    "pool_init": "Process Pools",
    "barrier": "multiprocessing.Barrier",
    "proxy_copy": "Proxy Objects",
    "daemon": "Process.daemon",
    "unguarded": "multiprocessing.Value",
    "fork_held": "Contexts and start methods",
}
# What each pitfall is, in a line (the help screen lists them with their docs' sections).
WHAT = {
    "feeder": T("joining a process whose queue still holds items it put", "join 一个队列里还有它放进去的元素的进程"),
    "main_guard": T("starting processes without the main module's guard", "没有主模块保护就启动进程"),
    "pickle": T("a target or an argument that cannot be pickled", "不能 pickle 的目标函数或参数"),
    "terminated": T(
        "terminate() or kill() of a lock holder, or mid put or get", "terminate()/kill() 了持锁或正在放取的进程"
    ),
    "zombie": T("a child that ended and is never joined", "结束了却一直没被 join 的子进程"),
    "shm": T("shared memory never unlinked", "从没 unlink 的共享内存"),
    "pool_results": T("a pool ended with results never fetched", "进程池结束时还有结果没取"),
    "pool_stuck": T("a pool's task that never returns", "一直不返回的进程池任务"),
    "callback": T("a pool's callback that raises", "抛出异常的进程池回调"),
    "pool_init": T("a pool's initializer that raises", "抛出异常的进程池 initializer"),
    "barrier": T("a barrier's party that ends before reaching it", "屏障的一方没到屏障就结束了"),
    "proxy_copy": T("a value of a Manager's dict or list changed in place", "原地修改 Manager 字典或列表里的值"),
    "daemon": T("a daemonic process starting children", "守护进程启动子进程"),
    "unguarded": T("a shared Value changed outside its get_lock()", "在 get_lock() 之外修改共享 Value"),
    "fork_held": T("a fork while another thread holds a lock", "别的线程持锁时 fork"),
}
SAY = {
    "feeder": T(
        "pitfall: {who} joins {child} ({where}), but {child} put {n} item(s) into '{queue}' that nobody took: "
        "its queue's feeder thread cannot end until they are taken, so {child} cannot exit and the join never "
        "returns. Fix: get the items before the join",
        "陷阱:{who} 在 join {child}({where}),但 {child} 放进 '{queue}' 的 {n} 个元素没人取:它队列的 feeder "
        "线程要等元素被取走才能结束,所以 {child} 退不出,join 永远不返回。解决:先 get 完再 join",
    ),
    "main_guard": T(
        "pitfall: {child} was started ({where}) while the main module was being imported by a spawned process: under "
        "spawn and forkserver every child imports the main module again. Fix: start processes only under "
        '`if __name__ == "__main__":`',
        "陷阱:{child}({where})是在子进程导入主模块时启动的:spawn 和 forkserver 下每个子进程都会重新导入主模块。"
        '解决:只在 `if __name__ == "__main__":` 下面启动进程',
    ),
    "pickle": T(
        "pitfall: {child} could not start ({where}): {error}. Under spawn and forkserver the target and its arguments "
        "are pickled to reach the child, and a lambda or a local function cannot be. Fix: a function defined at the "
        "top of a module, and arguments that pickle",
        "陷阱:{child} 启动不了({where}):{error}。spawn 和 forkserver 下目标函数和参数要 pickle 才能传给子进程,"
        "lambda 和局部函数不行。解决:用模块顶层定义的函数和能 pickle 的参数",
    ),
    "pickle_task": T(
        "pitfall: a task of {child} could not be sent to pool '{pool}' ({where}): {error}. A pool's tasks are pickled "
        "to reach its workers, whatever the start method, and a lambda or a local function cannot be. Fix: a function "
        "defined at the top of a module, and arguments that pickle",
        "陷阱:{child} 的任务发不到进程池 '{pool}'({where}):{error}。无论哪种启动方式,进程池的任务都要 pickle "
        "才能传给工作进程,lambda 和局部函数不行。解决:用模块顶层定义的函数和能 pickle 的参数",
    ),
    "pool_made": T("the pool made at {where}", "进程池在 {where} 创建"),
    "daemon": T(
        "pitfall: {who}, a daemonic process, tried to start {child} ({where}): a daemonic process may not have "
        "children. Fix: make it not daemonic, or start the children from its parent",
        "陷阱:守护进程 {who} 想启动 {child}({where}):守护进程不能有子进程。解决:不要设为守护进程,或由它的父进程来启动",
    ),
    "terminated": T(
        "pitfall: {who} ended {child} with {signal} ({where}) while it {what}: {then}. Fix: ask it to stop (an "
        "event, a None in its queue) and join it",
        "陷阱:{who} 用 {signal} 结束了 {child}({where}),而它当时{what}:{then}。解决:通知它停下(事件、队列里放 None)再 join",
    ),
    "held": T("held {what}", "持有 {what}"),
    "putting": T("was putting into '{name}'", "正在往 '{name}' 放东西"),
    "getting": T("was getting from '{name}'", "正在从 '{name}' 取东西"),
    "held_then": T("it stays held for ever", "它永远被持有"),
    # (A Lock has no owner: another process may still release it.)
    "held_lock_then": T(
        "nobody can take it again unless another process releases it", "除非别的进程 release() 它,谁也拿不到它了"
    ),
    "queue_then": T("the queue may be left broken", "这个队列可能坏掉了"),
    "zombie": T(
        "pitfall: {child} ended and {parent} has not joined it: it stays a zombie until then{started}. "
        "Fix: join() every process you start",
        "陷阱:{child} 已结束,{parent} 还没 join 它:在那之前它一直是僵尸进程{started}。解决:启动的每个进程都要 join()",
    ),
    "started": T(" (started {where})", "({where} 启动)"),
    "shm": T(
        "pitfall: shared memory '{name}' ({block}, made {where}) was never unlinked: it stays in /dev/shm while the "
        "program runs, and only multiprocessing's resource tracker removes it, at the program's end, warning of a "
        "leak. Fix: unlink() it once, when every process is done with it",
        "陷阱:共享内存 '{name}'({block},{where} 创建)从没 unlink:程序运行期间它一直留在 /dev/shm,"
        "只有 multiprocessing 的 resource tracker 会在程序结束时删掉它,并警告有泄漏。解决:所有进程用完后 unlink() 一次",
    ),
    "pool_results": T(
        "pitfall: pool '{name}' was terminated ({where}) with {n} task(s) whose results nobody fetched: they are lost. "
        "Fix: get() every result, or close() and join() before the pool ends",
        "陷阱:进程池 '{name}' 被 terminate 了({where}),还有 {n} 个任务的结果没人取:它们丢了。解决:先 get() 每个结果,或先 close() 再 join()",
    ),
    "pool_stuck": T(
        "pitfall: pool '{name}': {n} task(s) never returned while the others did: {workers}. Fix: a task that can "
        "wait needs a timeout, and get(timeout=…) keeps its caller from waiting for ever",
        "陷阱:进程池 '{name}':{n} 个任务一直没返回,别的都返回了:{workers}。解决:会等待的任务要有超时,"
        "get(timeout=…) 让调用者不会永远等下去",
    ),
    "callback": T(
        "pitfall: {func} ({where}), a callback of pool '{name}', raised {error}: callbacks run in the pool's "
        "result-handler thread, and the exception ended it, so no result of the pool comes back any more (a get() "
        "with no timeout waits for ever). Fix: catch every exception inside the callback",
        "陷阱:进程池 '{name}' 的回调 {func}({where})抛出了 {error}:回调在进程池的结果处理线程里运行,异常让这个线程结束了,"
        "进程池再也拿不回任何结果(没有超时的 get() 会永远等下去)。解决:在回调里捕获所有异常",
    ),
    "pool_init": T(
        "pitfall: pool '{name}''s workers die in their initializer {func} ({where}): {error}; the pool starts new "
        "ones for ever, and no task is ever done (a map() or a get() with no timeout waits for ever). Fix: let the "
        "initializer catch what it can recover from, and check what it needs before making the pool",
        "陷阱:进程池 '{name}' 的工作进程都死在 initializer {func}({where})里:{error};进程池不停地启动新的工作进程,"
        "却一个任务也做不完(没有超时的 map() 或 get() 会永远等下去)。解决:在 initializer 里捕获能处理的异常,"
        "并在创建进程池之前先检查它需要的东西",
    ),
    "barrier": T(
        "pitfall: barrier '{name}' needs {parties} parties; {dead} before reaching it: the {n} at the barrier wait "
        "for ever. Fix: wait(timeout=…) ends every party's wait with BrokenBarrierError, or abort() the barrier when "
        "a party fails (a try/except around its work before wait())",
        "陷阱:屏障 '{name}' 需要 {parties} 方;{dead},没到屏障:在屏障等的 {n} 个会永远等下去。解决:wait(timeout=…) "
        "让每一方的等待以 BrokenBarrierError 结束,或者在某一方出错时 abort() 这个屏障(在 wait() 之前的工作外面 try/except)",
    ),
    "proxy_copy": T(
        "pitfall: `{expr}` ({where}) changes a copy: `{get}` gives the process a copy of the {type} that the "
        "Manager's {typeid} '{proxy}' holds, and the change is lost with it (the proxy cannot know of it). "
        "Fix: `{fix}` — write the copy back (under a lock if other processes change it too)",
        "陷阱:`{expr}`({where})改的是副本:`{get}` 给进程的是 Manager 的 {typeid} '{proxy}' 里那个 {type} 的副本,"
        "改动随副本丢失(代理无从知道它被改了)。解决:`{fix}` —— 把副本写回去(如果别的进程也会改它,要在锁里做)",
    ),
    "party": T("{who} (pid {pid}) ended ({how})", "{who}(pid {pid})结束了({how})"),
    "unguarded": T(
        "pitfall: '{name}' was read and then written outside {name}.get_lock() by {who}: each read and each "
        "write takes the lock alone, so a write another process makes between them is lost "
        "(`{example}` is a read and a write). Fix: `with {name}.get_lock(): {example}`",
        "陷阱:{who} 在 {name}.get_lock() 之外先读后写 '{name}':读和写各自单独加锁,别的进程在两者之间写的值会丢失"
        "(`{example}` 是一读一写)。解决:`with {name}.get_lock(): {example}`",
    ),
    "fork_held": T(
        "pitfall: {who} was forked while another thread of {parent} held threading lock '{name}': {who}'s copy "
        "of it is held, by a thread {who} does not have, and nobody can release it ({where}: it waits for ever). "
        "Fix: start processes with spawn or forkserver when threads hold locks, or fork only where no other "
        "thread holds one",
        "陷阱:{parent} 的另一个线程持有 threading 锁 '{name}' 时 fork 出了 {who}:{who} 里的这把锁的副本是被持有的,"
        "持有它的线程在 {who} 里不存在,谁也释放不了它({where}:会永远等下去)。解决:有线程持锁时用 spawn 或 "
        "forkserver 启动进程,或只在没有别的线程持锁时 fork",
    ),
    "docs": T(" (docs: {section})", "(文档:{section})"),
}


def pitfall_text(kind: str, said: str = "", **values: object) -> str:
    """The pitfall ``kind`` in words (those of ``said``, one of its forms, if given), with its docs' section."""
    return SAY[said or kind](**values) + SAY["docs"](section=SECTIONS[kind])


def where_of(model: Model, at: object) -> str:
    where = model.where(at) if isinstance(at, str) else ""
    return f"at {where}" if where else "where, unknown"
