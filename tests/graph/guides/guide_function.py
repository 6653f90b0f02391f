"""The code of TensorFlow's guide "Better performance with tf.function" (tensorflow.org/guide/function),
as written there with ``tf`` a parameter, so the same lines run with TensorFlow (to make the
fixture, scripts/make_tf_guide_fixtures.py) and with gputensor (the test). Left out: the loop
printing ``double_strings.graph.get_operations()``, whose node names differ (TF's ``add`` and
``Identity``, gputensor's numbered ``add_1`` and no Identity node).
"""

import contextlib


def run(tf):
    @contextlib.contextmanager
    def assert_raises(error_class):
        try:
            yield
        except error_class as e:
            print("Caught expected exception \n  {}:".format(error_class.__name__))
        except Exception as e:
            print("UNEXPECTED", type(e).__name__, e)
        else:
            print("Expected {} to be raised but no error was raised!".format(error_class))

    @tf.function
    def add(a, b):
        return a + b

    print(add(tf.ones([2, 2]), tf.ones([2, 2])))
    v = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        result = add(v, 1.0)
    print(tape.gradient(result, v))

    @tf.function
    def dense_layer(x, w, b):
        return add(tf.matmul(x, w), b)

    print(dense_layer(tf.ones([3, 2]), tf.ones([2, 2]), tf.ones([2])))

    @tf.function
    def double(a):
        print("Tracing with", a)
        return a + a

    print(double(tf.constant(1)))
    print()
    print(double(tf.constant(1.1)))
    print()
    print(double(tf.constant("a")))
    print()

    print("Obtaining concrete trace")
    double_strings = double.get_concrete_function(tf.constant("a"))
    print("Executing traced function")
    print(double_strings(tf.constant("a")))
    print(double_strings(a=tf.constant("b")))
    print(double.get_concrete_function(tf.TensorSpec(shape=[None], dtype=tf.string)))
    with assert_raises(tf.errors.InvalidArgumentError):
        double_strings(tf.constant(1))

    @tf.function
    def pow(a, b):
        return a**b

    square = pow.get_concrete_function(a=tf.TensorSpec(None, tf.float32), b=2)
    print(square)
    assert square(tf.constant(10.0)) == 100
    with assert_raises(TypeError):
        square(tf.constant(10.0), b=3)

    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def next_collatz(x):
        print("Tracing with", x)
        return tf.where(x % 2 == 0, x // 2, 3 * x + 1)

    print(next_collatz(tf.constant([1, 2])))
    with assert_raises(TypeError):
        next_collatz(tf.constant([[1, 2], [3, 4]]))
    with assert_raises(TypeError):
        next_collatz(tf.constant([1.0, 2.0]))

    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def g(x):
        print("Tracing with", x)
        return x

    print(g(tf.constant([1, 2, 3])))
    print(g(tf.constant([1, 2, 3, 4, 5])))

    @tf.function(reduce_retracing=True)
    def g(x):
        print("Tracing with", x)
        return x

    print(g(tf.constant([1, 2, 3])))
    print(g(tf.constant([1, 2, 3, 4, 5])))

    def train_one_step():
        pass

    @tf.function
    def train(num_steps):
        print("Tracing with num_steps = ", num_steps)
        tf.print("Executing with num_steps = ", num_steps)
        for _ in tf.range(num_steps):
            train_one_step()

    print("Retracing occurs for different Python arguments.")
    train(num_steps=10)
    train(num_steps=20)
    print()
    print("Traces are reused for Tensor arguments.")
    train(num_steps=tf.constant(10))
    train(num_steps=tf.constant(20))

    @tf.function
    def f(x):
        print("Traced with", x)
        tf.print("Executed with", x)

    f(1)
    f(1)
    f(2)

    external_list = []

    @tf.function
    def side_effect(x):
        print("Python side effect")
        external_list.append(x)

    side_effect(1)
    side_effect(1)
    side_effect(1)
    assert len(external_list) == 1

    @tf.function
    def buggy_consume_next(iterator):
        tf.print("Value:", next(iterator))

    iterator = iter([1, 2, 3])
    buggy_consume_next(iterator)
    buggy_consume_next(iterator)
    buggy_consume_next(iterator)

    @tf.function
    def f(x):
        v = tf.Variable(1.0)
        return v

    with assert_raises(ValueError):
        f(1.0)

    class Count(tf.Module):
        def __init__(self):
            self.count = None

        @tf.function
        def __call__(self):
            if self.count is None:
                self.count = tf.Variable(0)
            return self.count.assign_add(1)

    c = Count()
    print(c())
    print(c())

    @tf.function
    def f(x):
        while tf.reduce_sum(x) > 1:
            tf.print(x)
            x = tf.tanh(x)
        return x

    print(f(tf.constant([0.2, 0.9, 0.5, 0.8, 0.4])))

    def fizzbuzz(n):
        for i in tf.range(1, n + 1):
            print("Tracing for loop")
            if i % 15 == 0:
                print("Tracing fizzbuzz branch")
                tf.print("fizzbuzz")
            elif i % 3 == 0:
                print("Tracing fizz branch")
                tf.print("fizz")
            elif i % 5 == 0:
                print("Tracing buzz branch")
                tf.print("buzz")
            else:
                print("Tracing default branch")
                tf.print(i)

    tf.function(fizzbuzz)(tf.constant(5))
    tf.function(fizzbuzz)(tf.constant(20))

    batch_size = 2
    seq_len = 3
    feature_size = 4

    def rnn_step(inp, state):
        return inp + state

    @tf.function
    def dynamic_rnn(rnn_step, input_data, initial_state):
        # [batch, time, features] -> [time, batch, features]
        input_data = tf.transpose(input_data, [1, 0, 2])
        max_seq_len = input_data.shape[0]

        states = tf.TensorArray(tf.float32, size=max_seq_len)
        state = initial_state
        for i in tf.range(max_seq_len):
            state = rnn_step(input_data[i], state)
            states = states.write(i, state)
        return tf.transpose(states.stack(), [1, 0, 2])

    print(
        dynamic_rnn(
            rnn_step,
            tf.reshape(
                tf.range(batch_size * seq_len * feature_size, dtype=tf.float32),
                [batch_size, seq_len, feature_size],
            ),
            tf.zeros([batch_size, feature_size]),
        )
    )

    leaked = []  # the guide uses a global; a list keeps the leak inside run()

    @tf.function
    def leaky_function(a):
        leaked.append(a + 1)
        return a + 2

    correct_a = leaky_function(tf.constant(1))
    print(correct_a.numpy())
    try:
        leaked[0].numpy()
    except AttributeError:
        print("AttributeError")  # the guide prints the message: TF's and gt's words differ

    @tf.function
    def f(x):
        return x + 1.0

    print(f(tf.constant(1.0)))
    print(tf.config.functions_run_eagerly())
    tf.config.run_functions_eagerly(True)
    print(f(tf.constant(1.0)))
    tf.config.run_functions_eagerly(False)

    v = tf.Variable(2.0)

    @tf.function
    def mul(x):
        return x * v

    print(mul(tf.constant(3.0)))
    v.assign(4.0)
    print(mul(tf.constant(3.0)))

    @tf.function
    def f(x):
        print("Tracing!")
        return tf.reduce_sum(x)

    print(f.experimental_get_tracing_count())
    f(tf.constant([1, 2]))
    f(tf.constant([1, 2, 3]))
    f(tf.constant([4, 5]))
    print(f.experimental_get_tracing_count())
    print(f.pretty_printed_concrete_signatures())
