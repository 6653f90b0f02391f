"""The code of TensorFlow's guide "Random number generation" (tensorflow.org/guide/random_numbers),
as written there with ``tf`` a parameter, so the same lines run with TensorFlow (to make the
fixture, scripts/make_tf_guide_fixtures.py) and with gputensor (the test).

Adapted: gputensor's generator is counter-based Philox4x32-10 of its own (docs/random.md), so
``gt.random.Generator.from_seed(1).normal([2, 3])`` is not TF's draw, and a generator's state
holds another counter and key than TF's. Where the guide prints a draw or a state, this prints
its shape and dtype (``show``) and the properties the guide's text states, computed by the
guide's code: the same seed gives the same numbers, generators from ``split`` and later draws
differ, a stream restored from a checkpoint or a SavedModel repeats the one from the saving
point, stateless ops repeat for the same seed. Left out: the virtual CPU devices of the setup and
the sections on distribution strategies (tf.distribute is outside gputensor's scope).
"""

import tempfile

import numpy as np

g = None
num_traces = 0


def run(tf):
    def show(t):
        print(f"shape={tuple(t.shape)} dtype={t.dtype.name}")

    def same(a, b):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))

    global g, num_traces

    g1 = tf.random.Generator.from_seed(1)
    first = g1.normal(shape=[2, 3])
    show(first)
    g2 = tf.random.get_global_generator()
    show(g2.normal(shape=[2, 3]))

    g1 = tf.random.Generator.from_seed(1, alg="philox")
    again = g1.normal(shape=[2, 3])
    show(again)
    print("from_seed(1) and from_seed(1, alg='philox') give the same numbers:", same(first, again))

    g = tf.random.Generator.from_non_deterministic_state()
    show(g.normal(shape=[2, 3]))

    g = tf.random.Generator.from_seed(1)
    a = g.normal([])
    b = g.normal([])
    g.reset_from_seed(1)
    c = g.normal([])
    show(a)
    print("second draw differs:", not same(a, b), "reset_from_seed repeats the first:", same(a, c))

    g = tf.random.Generator.from_seed(1)
    before = g.normal([])
    new_gs = g.split(3)
    split_draws = [new_g.normal([]) for new_g in new_gs]
    after = g.normal([])
    values = [float(v) for v in [before, *split_draws, after]]
    print("split generators and the parent's next draw all differ:", len(set(values)) == len(values))

    with tf.device("cpu"):  # change "cpu" to the device you want
        g = tf.random.get_global_generator().split(1)[0]
        x = g.normal([])  # use of g won't cause cross-device copy, unlike the global generator
        show(x)
        print(x.device)

    # Interaction with tf.function: a generator made outside
    g = tf.random.Generator.from_seed(1)

    @tf.function
    def foo():
        return g.normal([])

    f1 = foo()
    f2 = foo()
    show(f1)
    eager = tf.random.Generator.from_seed(1)
    print(
        "draws in a traced function continue the eager stream:",
        same(f1, eager.normal([])),
        same(f2, eager.normal([])),
    )

    # Creating generators inside tf.function (on the first call only)
    g = None

    @tf.function
    def foo():
        global g
        if g is None:
            g = tf.random.Generator.from_seed(1)
        return g.normal([])

    f1 = foo()
    f2 = foo()
    show(f1)
    print("the second call draws new numbers:", not same(f1, f2))

    # Passing generators as arguments to tf.function
    num_traces = 0

    @tf.function
    def foo(g):
        global num_traces
        num_traces += 1
        return g.normal([])

    foo(tf.random.Generator.from_seed(1))
    foo(tf.random.Generator.from_seed(2))
    print(num_traces)

    num_traces = 0

    @tf.function
    def foo(g):
        global num_traces
        num_traces += 1
        return g.normal([])

    gen = tf.random.Generator.from_seed(1)
    foo(gen)
    gen.reset_from_seed(2)
    foo(gen)
    print(num_traces)

    with tempfile.TemporaryDirectory() as tmp:
        # Saving to a checkpoint
        filename = tmp + "/checkpoint"
        g = tf.random.Generator.from_seed(1)
        cp = tf.train.Checkpoint(generator=g)
        show(g.normal([]))

        cp.write(filename)
        print("RNG stream from saving point:")
        saved_stream = [g.normal([]), g.normal([])]
        for x in saved_stream:
            show(x)

        cp.restore(filename)
        print("RNG stream from restoring point:")
        restored_stream = [g.normal([]), g.normal([])]
        for x in restored_stream:
            show(x)
        print("the restored stream repeats the saved one:", all(map(same, saved_stream, restored_stream)))

        # Saving to a SavedModel
        filename = tmp + "/saved_model"

        class MyModule(tf.Module):
            def __init__(self):
                self.g = tf.random.Generator.from_seed(0)

            @tf.function
            def __call__(self):
                return self.g.normal([])

            @tf.function
            def state(self):
                return self.g.state

        mod = MyModule()
        m1 = mod()
        s1 = mod.state()
        m2 = mod()
        s2 = mod.state()
        show(m1)
        show(s1)
        print("each call draws anew and advances the state:", not same(m1, m2), not same(s1, s2))

        tf.saved_model.save(mod, filename)

        print("RNG stream from saving point:")
        saved_stream = [mod(), mod.state(), mod(), mod.state()]

        imported = tf.saved_model.load(filename)
        print("RNG stream from loading point:")
        loaded_stream = [imported(), imported.state(), imported(), imported.state()]
        for x in loaded_stream:
            show(x)
        print(
            "the loaded module repeats the stream from the saving point:",
            all(map(same, saved_stream, loaded_stream)),
        )

    # Stateless RNGs
    s1 = tf.random.stateless_normal(shape=[2, 3], seed=[1, 2])
    s2 = tf.random.stateless_normal(shape=[2, 3], seed=[1, 2])
    show(s1)
    print("stateless ops repeat for the same seed:", same(s1, s2))
    s3 = tf.random.stateless_normal(shape=[2, 3], seed=[1, 3])
    print("and differ for another seed:", not same(s1, s3))
