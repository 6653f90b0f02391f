"""The AST rewrite of AutoGraph: control flow into calls of `operators` (``ag__``).

A function's tree goes through three steps, each on every function defined in it:

1. *Lowering*: a ``return`` inside an ``if`` or loop becomes an assignment of
   ``ag__retval`` (the statements after an ``if`` that returns move into its
   branches that do not; a loop sets ``ag__do_return`` and breaks); ``break`` and
   ``continue`` become flags that guard the statements after them (``if not flag:``),
   and a ``break`` flag joins the loop's condition. No jump is left in a loop body.
2. *Liveness*: for each ``if``, the variables read after it; for each loop, the
   variables read at its head (by the condition, by the body before it assigns
   them, or after the loop). Only those become a cond's outputs or a loop's variables.
3. *Conversion*: each ``if``/``while``/``for`` becomes functions of the variables the
   statement assigns (they take them and return them) and one call of
   ``ag__.if_stmt``/``while_stmt``/``for_stmt``; ``and``/``or``/``not`` become
   ``ag__.and_``/``or_``/``not_`` (lazy operands as lambdas); calls go through
   ``ag__.converted_call`` so user functions convert too.

Every new node carries the line of the statement it comes from, so tracebacks and
AutoGraph's errors point at the user's source.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

RETVAL = "ag__retval"
DO_RETURN = "ag__do_return"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.While, ast.For)
_NOT_CONVERTED_CALLS = {"super", "locals", "globals", "vars", "eval", "exec", "print"}


class UnsupportedError(Exception):
    """Raised for source AutoGraph leaves to Python (the function then runs unconverted)."""


# ------------------------------------------------------------------ helpers
def _walk(nodes: list, into_loops: bool = True) -> Iterator[ast.AST]:
    """Nodes under ``nodes`` in this scope: nested functions, lambdas and classes are
    yielded but not entered (and loops not entered when ``into_loops`` is False)."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES) or (not into_loops and isinstance(node, _LOOPS)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _jumps(stmts: list, kind: type) -> bool:
    """Whether a ``break``/``continue`` of the loop owning ``stmts`` is among them."""
    for s in stmts:
        if isinstance(s, kind):
            return True
        if isinstance(s, _LOOPS):
            if _jumps(s.orelse, kind):
                return True
            continue
        if isinstance(s, _SCOPES):
            continue
        for field in ("body", "orelse", "finalbody"):
            if _jumps(getattr(s, field, []) or [], kind):
                return True
        for h in getattr(s, "handlers", []) or []:
            if _jumps(h.body, kind):
                return True
    return False


def _returns(node: ast.AST | list) -> bool:
    nodes = node if isinstance(node, list) else [node]
    return any(isinstance(n, ast.Return) for n in _walk(nodes))


def _always_returns(stmts: list) -> bool:
    for s in stmts:
        if isinstance(s, (ast.Return, ast.Raise)):
            return True
        if isinstance(s, ast.If) and _always_returns(s.body) and _always_returns(s.orelse):
            return True
    return False


def _name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _assign(name: str, value: ast.expr, at: ast.AST) -> ast.Assign:
    return ast.copy_location(ast.Assign(targets=[_name(name, True)], value=value), at)


def _not(name: str) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=_name(name))


def _ag(attr: str) -> ast.Attribute:
    return ast.Attribute(value=_name("ag__"), attr=attr, ctx=ast.Load())


def _located(nodes: list, at: ast.AST) -> list:
    """Gives new nodes the position of ``at``'s first line (not its whole span), so a
    traceback through them shows the statement's header line."""
    for n in nodes:
        for sub in ast.walk(n):
            if not hasattr(sub, "lineno") and "lineno" in sub._attributes:
                sub.lineno = sub.end_lineno = at.lineno
                sub.col_offset = at.col_offset
                sub.end_col_offset = at.col_offset + 1 if at.end_lineno != at.lineno else at.end_col_offset
    return nodes


def _fill(new: ast.AST, at: ast.AST) -> ast.AST:
    """Gives the nodes of a rewritten expression without a position ``at``'s position."""
    for sub in ast.walk(new):
        if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
            ast.copy_location(sub, at)
    return new


# ------------------------------------------------------------- 1. lowering
def lower_returns(fn: ast.FunctionDef) -> None:
    """Rewrites ``return`` inside ``if``/loops as assignments of ``ag__retval``."""
    nested = [s for s in fn.body if not isinstance(s, ast.Return) and _returns(s)]
    if not nested:
        return
    for s in _walk(fn.body):
        if isinstance(s, (ast.With, ast.Try)) and _returns(s.body + getattr(s, "handlers", [])):
            raise UnsupportedError(f"line {s.lineno}: `return` inside `with`/`try` in converted control flow")
        if isinstance(s, _LOOPS) and _returns(s.orelse):
            raise UnsupportedError(f"line {s.lineno}: `return` in a loop's `else`")
    body = list(fn.body)
    if not _always_returns(body):
        body.append(ast.copy_location(ast.Return(value=None), body[-1]))
    fn.body = _lower_block(body, False) + [ast.copy_location(ast.Return(value=_name(RETVAL)), body[-1])]


def _lower_block(stmts: list, in_loop: bool) -> list:
    out: list = []
    for i, s in enumerate(stmts):
        rest = stmts[i + 1 :]
        if isinstance(s, ast.Return):
            value = s.value if s.value is not None else ast.Constant(value=None)
            out.append(_assign(RETVAL, value, s))
            if in_loop:
                out += [_assign(DO_RETURN, ast.Constant(value=True), s), ast.copy_location(ast.Break(), s)]
            return out
        if not _returns(s):
            out.append(s)
            continue
        if isinstance(s, ast.If):
            if in_loop:
                s.body, s.orelse = _lower_block(s.body, True), _lower_block(s.orelse, True)
                out.append(s)
                continue
            body = s.body if _always_returns(s.body) else s.body + copy.deepcopy(rest)
            orelse = s.orelse if _always_returns(s.orelse) else s.orelse + copy.deepcopy(rest)
            s.body, s.orelse = (
                _lower_block(body, False),
                _lower_block(orelse, False) or [ast.copy_location(ast.Pass(), s)],
            )
            out.append(s)
            return out
        if isinstance(s, _LOOPS):
            s.body = _lower_block(s.body, True)
            out += [_assign(DO_RETURN, ast.Constant(value=False), s), s]
            if in_loop:
                out.append(ast.copy_location(ast.If(test=_name(DO_RETURN), body=[ast.Break()], orelse=[]), s))
                _located(out[-1:], s)
                continue
            follow = _lower_block(rest, False)
            out.append(
                _located(
                    [ast.If(test=_name(DO_RETURN), body=[ast.Pass()], orelse=follow or [ast.Pass()])], s
                )[0]
            )
            return out
        raise UnsupportedError(f"line {s.lineno}: `return` inside {type(s).__name__}")
    return out


def lower_jumps(stmts: list, counter: list) -> list:
    """Rewrites ``break``/``continue`` of every loop in ``stmts`` (this scope) as flags."""
    out = []
    for s in stmts:
        if isinstance(s, _SCOPES):
            out.append(s)
            continue
        for field in ("body", "orelse", "finalbody"):
            if getattr(s, field, None):
                setattr(s, field, lower_jumps(getattr(s, field), counter))
        for h in getattr(s, "handlers", []) or []:
            h.body = lower_jumps(h.body, counter)
        out += _lower_loop(s, counter) if isinstance(s, _LOOPS) else [s]
    return out


def _lower_loop(loop: ast.While | ast.For, counter: list) -> list:
    counter[0] += 1
    k = counter[0]
    before, after = [], []
    body = loop.body
    if _jumps(body, ast.Continue):
        flag = f"ag__continue_{k}"
        body = [_assign(flag, ast.Constant(value=False), loop)] + _guard(body, ast.Continue, flag)
    flag = None
    if _jumps(body, ast.Break):
        flag = f"ag__break_{k}"
        body = _guard(body, ast.Break, flag)
        before.append(_assign(flag, ast.Constant(value=False), loop))
    loop.body = body
    if loop.orelse:
        after = (
            _located([ast.If(test=_not(flag), body=loop.orelse, orelse=[])], loop) if flag else loop.orelse
        )
        loop.orelse = []
    extra = _located([ast.Expr(_not(flag))], loop)[0].value if flag else None
    if isinstance(loop, ast.While) and extra is not None:
        loop.test = ast.copy_location(ast.BoolOp(op=ast.And(), values=[extra, loop.test]), loop.test)
    if isinstance(loop, ast.For):
        loop.ag_extra_test = extra
    return before + [loop] + after


def _guard(stmts: list, kind: type, flag: str) -> list:
    out: list = []
    for i, s in enumerate(stmts):
        if isinstance(s, kind):
            out.append(_assign(flag, ast.Constant(value=True), s))
            return out
        if not isinstance(s, (*_LOOPS, *_SCOPES)) and _jumps([s], kind):
            for field in ("body", "orelse", "finalbody"):
                if getattr(s, field, None):
                    setattr(s, field, _guard(getattr(s, field), kind, flag))
            for h in getattr(s, "handlers", []) or []:
                h.body = _guard(h.body, kind, flag)
            out.append(s)
            rest = stmts[i + 1 :]
            if rest:
                out += _located([ast.If(test=_not(flag), body=_guard(rest, kind, flag), orelse=[])], s)
            return out
        out.append(s)
    return out


# ------------------------------------------------------------- 2. liveness
def _loads(node: ast.AST | list | None) -> set:
    if node is None:
        return set()
    nodes = node if isinstance(node, list) else [node]
    return {
        n.id
        for root in nodes
        for n in ast.walk(root)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def assigned(stmts: list) -> list:
    """Names the statements bind in this scope, in first-assignment order."""
    seen: dict = {}
    for n in _walk(stmts):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            seen.setdefault(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            seen.setdefault(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                seen.setdefault((a.asname or a.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            seen.setdefault(n.name)
    return [k for k in seen if not k.startswith("ag__fn")]


def _kills(s: ast.stmt) -> set:
    if isinstance(s, ast.Assign):
        return {t.id for t in s.targets if isinstance(t, ast.Name)} | {
            e.id
            for t in s.targets
            if isinstance(t, (ast.Tuple, ast.List))
            for e in t.elts
            if isinstance(e, ast.Name)
        }
    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.value is not None:
        return {s.target.id}
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {s.name}
    return set()


def live_in(stmts: list, live: set) -> set:
    """The names live before ``stmts`` given those live after; records ``ag_live`` on every
    ``if`` (live after it) and loop (live at its head)."""
    live = set(live)
    for s in reversed(stmts):
        if isinstance(s, ast.If):
            s.ag_live = set(live)
            live = _loads(s.test) | live_in(s.body, live) | live_in(s.orelse, live)
        elif isinstance(s, ast.While):
            head = _loads(s.test) | live
            while True:
                new = _loads(s.test) | live | live_in(s.body, head)
                if new == head:
                    break
                head = new
            s.ag_live = head
            live = head
        elif isinstance(s, ast.For):
            extra = _loads(getattr(s, "ag_extra_test", None))
            targets = {n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)}
            head = live | extra
            while True:
                new = live | extra | (live_in(s.body, head) - targets)
                if new == head:
                    break
                head = new
            s.ag_live = head
            live = _loads(s.iter) | head
        elif isinstance(s, ast.Return):
            live = _loads(s.value)
        elif isinstance(s, ast.With):
            live = _loads([i.context_expr for i in s.items]) | live_in(s.body, live)
        elif isinstance(s, ast.Try):
            everything = live | _loads(s)
            for block in (s.body, s.orelse, s.finalbody, *[h.body for h in s.handlers]):
                live_in(block, everything)
            live = everything
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            live = (live - {s.name}) | _loads(s)
        else:
            live = (live - _kills(s)) | _loads(s)
    return live


# ----------------------------------------------------------- 3. conversion
class _Converter(ast.NodeTransformer):
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.declared: list[dict] = []  # per function: names declared global/nonlocal
        self.skip: list[bool] = []  # per function: a generator, left as Python
        self.self_arg: str | None = None  # the converted method's first parameter

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        declared = {
            n: type(s) for s in _walk(node.body) if isinstance(s, (ast.Global, ast.Nonlocal)) for n in s.names
        }
        generator = any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in _walk(node.body))
        self.declared.append(declared)
        self.skip.append(generator)
        if len(self.declared) == 1 and node.args.posonlyargs + node.args.args:
            self.self_arg = (node.args.posonlyargs + node.args.args)[0].arg
        try:
            self.generic_visit(node)
        finally:
            self.declared.pop()
            self.skip.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (ast.NodeTransformer's naming)

    # expressions
    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        result = node.values[-1]
        for value in reversed(node.values[:-1]):
            result = ast.Call(func=_ag(fn), args=[self._thunk(value), self._thunk(result)], keywords=[])
        return ast.copy_location(result, node)

    @staticmethod
    def _thunk(expr: ast.expr) -> ast.Lambda:
        args = ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        )
        return ast.copy_location(ast.Lambda(args=args, body=expr), expr)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _fill(ast.Call(func=_ag("not_"), args=[node.operand], keywords=[]), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "super" and not node.args and self.self_arg:
            # Zero-argument super() reads the frame's first argument, which a generated
            # branch or loop function does not have: name the class and instance.
            node.args = [_fill(_name("__class__"), node), _fill(_name(self.self_arg), node)]
        if isinstance(node.func, ast.Name) and node.func.id in _NOT_CONVERTED_CALLS:
            return node
        if (
            isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "ag__"
        ):
            return node
        args = ast.Tuple(elts=list(node.args), ctx=ast.Load())
        kwargs = ast.Dict(keys=[ast.Constant(k.arg) if k.arg else None for k in node.keywords],
                          values=[k.value for k in node.keywords])  # fmt: skip
        return _fill(ast.Call(func=_ag("converted_call"), args=[node.func, args, kwargs], keywords=[]), node)

    # statements
    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if node.value is not None and not (self.skip and self.skip[-1]):
            node.value = _fill(
                ast.Call(func=_ag("checked_return"), args=[node.value], keywords=[]), node.value
            )
        return node

    def _state(self, stmts: list) -> list:
        declared = self.declared[-1] if self.declared else {}
        return [n for n in assigned(stmts) if n not in declared]

    def _function(self, name: str, params: list, body: list, returns: list, at: ast.AST) -> ast.FunctionDef:
        # A name the function declares global or nonlocal stays so in the generated functions.
        declared = self.declared[-1] if self.declared else {}
        written = set(assigned(body))
        head: list = [
            kind(names=[n for n, k in declared.items() if k is kind and n in written])
            for kind in (ast.Global, ast.Nonlocal)
            if any(k is kind and n in written for n, k in declared.items())
        ]
        ret = ast.Return(value=ast.Tuple(elts=[_name(n) for n in returns], ctx=ast.Load()))
        fn = ast.FunctionDef(
            name=name,
            args=ast.arguments(
                posonlyargs=[],
                args=[ast.arg(arg=p) for p in params],
                vararg=None,
                kwonlyargs=[],
                kw_defaults=[],
                kwarg=None,
                defaults=[],
            ),  # fmt: skip
            body=head + (body or [ast.Pass()]) + [ret],
            decorator_list=[],
            returns=None,
            **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
        )
        return _located([fn], at)[0]

    def _undefined(self, names: list, at: ast.AST) -> list:
        """``try: x / except NameError: x = ag__.Undefined('x')`` for each name."""
        out = []
        for n in names:
            handler = ast.ExceptHandler(
                type=_name("NameError"),
                name=None,
                body=[ast.Assign(targets=[_name(n, True)], value=ast.Call(func=_ag("Undefined"), args=[ast.Constant(n)], keywords=[]))],
            )  # fmt: skip
            out.append(ast.Try(body=[ast.Expr(_name(n))], handlers=[handler], orelse=[], finalbody=[]))
        return _located(out, at)

    def _call(self, fn: str, args: list, names: list, live: set, at: ast.AST) -> list:
        site = ast.Tuple(elts=[ast.Constant(self.filename), ast.Constant(at.lineno)], ctx=ast.Load())
        call = ast.Call(
            func=_ag(fn),
            args=[
                *args,
                ast.Tuple(elts=[_name(n) for n in names], ctx=ast.Load()),
                ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load()),
                ast.Tuple(elts=[ast.Constant(n) for n in names if n in live], ctx=ast.Load()),
                site,
            ],
            keywords=[],
        )
        if names:
            stmt: ast.stmt = ast.Assign(
                targets=[ast.Tuple(elts=[_name(n, True) for n in names], ctx=ast.Store())], value=call
            )
        else:
            stmt = ast.Expr(call)
        return self._undefined(names, at) + _located([stmt], at)

    def visit_If(self, node: ast.If) -> ast.AST | list:
        self.generic_visit(node)
        if self.skip and self.skip[-1]:
            return node
        names = self._state([node])
        k = f"{node.lineno}_{node.col_offset}"
        true = self._function(f"ag__fn_if_true_{k}", names, node.body, names, node)
        false = self._function(f"ag__fn_if_false_{k}", names, node.orelse, names, node)
        return [true, false] + self._call(
            "if_stmt",
            [node.test, _name(true.name), _name(false.name)],
            names,
            getattr(node, "ag_live", set(names)),
            node,
        )

    def visit_While(self, node: ast.While) -> ast.AST | list:
        self.generic_visit(node)
        if self.skip and self.skip[-1]:
            return node
        names = self._state(node.body)
        k = f"{node.lineno}_{node.col_offset}"
        test = self._function(f"ag__fn_while_test_{k}", names, [], [], node)
        test.body[-1] = ast.copy_location(ast.Return(value=node.test), node)
        body = self._function(f"ag__fn_while_body_{k}", names, node.body, names, node)
        return [test, body] + self._call(
            "while_stmt",
            [_name(test.name), _name(body.name)],
            names,
            getattr(node, "ag_live", set(names)),
            node,
        )

    def visit_For(self, node: ast.For) -> ast.AST | list:
        extra = getattr(node, "ag_extra_test", None)
        live = getattr(node, "ag_live", None)
        self.generic_visit(node)
        if self.skip and self.skip[-1]:
            return node
        if extra is not None:
            extra = self.visit(extra)
        names = self._state([node.target] + node.body)
        k = f"{node.lineno}_{node.col_offset}"
        item = "ag__item"
        bind = ast.copy_location(ast.Assign(targets=[node.target], value=_name(item)), node)
        body = self._function(f"ag__fn_for_body_{k}", [item, *names], [bind, *node.body], names, node)
        out: list = [body]
        test_ref: ast.expr = ast.Constant(None)
        if extra is not None:
            test = self._function(f"ag__fn_for_test_{k}", names, [], [], node)
            test.body[-1] = ast.copy_location(ast.Return(value=extra), node)
            out.append(test)
            test_ref = _name(test.name)
        iterable = node.iter
        if (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr == "converted_call"
        ):
            iterable = ast.copy_location(
                ast.Call(func=_ag("for_iterable"), args=iterable.args, keywords=[]), iterable
            )
        return out + self._call(
            "for_stmt",
            [iterable, test_ref, _name(body.name)],
            names,
            live if live is not None else set(names),
            node,
        )


def transform(tree: ast.Module, filename: str) -> ast.FunctionDef:
    """Converts the one function definition in ``tree`` (and the functions nested in it)."""
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef):
        raise UnsupportedError(f"{type(fn).__name__} is not a function definition")
    fn.decorator_list = []
    _prepare(fn)
    converted = _Converter(filename).visit(fn)
    ast.fix_missing_locations(converted)
    return converted


def _prepare(fn: ast.FunctionDef) -> None:
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in _walk(fn.body)):
        return
    lower_returns(fn)
    fn.body = lower_jumps(fn.body, [0])
    live_in(fn.body, set())
    for n in _walk(fn.body):
        if isinstance(n, ast.FunctionDef) and n is not fn:
            _prepare(n)
