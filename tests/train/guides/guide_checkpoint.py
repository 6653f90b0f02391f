"""The code of TensorFlow's guide "Training checkpoints" (tensorflow.org/guide/checkpoint), as
written there with ``tf`` a parameter, so the same lines run with TensorFlow (to make the fixture,
scripts/make_tf_guide_fixtures.py) and with gputensor (the test).

Adapted: the Dense layer's initial kernel (Keras's random glorot_uniform) is a fixed NumPy draw,
so both libraries train the same numbers; the notebook's displayed last expressions are printed;
``net.save_weights('easy_checkpoint')`` raises in Keras 3 (it wants a ``.weights.h5`` name), so
the exception's class is printed; the model and the optimizer are built before the second
restore and the kernel's checkpoint name is Keras 3's ``_kernel`` (see the comments there: TF
2.21 with Keras 3 would not restore otherwise); the ``!ls ./tf_ckpts`` shell cell prints the
directory's names without their suffixes (TF writes ``.index`` and ``.data-*`` files per
checkpoint, gputensor one ``.gtckpt``). Files are written in a temporary directory.
"""

import os
import tempfile

import numpy as np


def run(tf):
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)
        try:
            _guide(tf)
        finally:
            os.chdir(cwd)


def _guide(tf):
    fixed_kernel = np.random.RandomState(0).uniform(-0.8, 0.8, size=(1, 5)).astype(np.float32)

    def kernel_initializer(shape, dtype=None):
        # Stands for Dense's random glorot_uniform: the same numbers in both libraries.
        return tf.constant(fixed_kernel)

    class Net(tf.keras.Model):
        """A simple linear model."""

        def __init__(self):
            super(Net, self).__init__()
            self.l1 = tf.keras.layers.Dense(5, kernel_initializer=kernel_initializer)

        def call(self, x):
            return self.l1(x)

    net = Net()

    # (Keras 3 raises here: it saves weights to ".weights.h5" files only)
    try:
        net.save_weights("easy_checkpoint")
    except ValueError as e:
        print(type(e).__name__)

    def toy_dataset():
        inputs = tf.range(10.0)[:, None]
        labels = inputs * 5.0 + tf.range(5.0)[None, :]
        return tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=labels)).repeat().batch(2)

    def train_step(net, example, optimizer):
        """Trains `net` on `example` using `optimizer`."""
        with tf.GradientTape() as tape:
            output = net(example["x"])
            loss = tf.reduce_mean(tf.abs(output - example["y"]))
        variables = net.trainable_variables
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return loss

    opt = tf.keras.optimizers.Adam(0.1)
    dataset = toy_dataset()
    iterator = iter(dataset)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, "./tf_ckpts", max_to_keep=3)

    def train_and_checkpoint(net, manager):
        ckpt.restore(manager.latest_checkpoint)
        if manager.latest_checkpoint:
            print("Restored from {}".format(manager.latest_checkpoint))
        else:
            print("Initializing from scratch.")

        for _ in range(50):
            example = next(iterator)
            loss = train_step(net, example, opt)
            ckpt.step.assign_add(1)
            if int(ckpt.step) % 10 == 0:
                save_path = manager.save()
                print("Saved checkpoint for step {}: {}".format(int(ckpt.step), save_path))
                print("loss {:1.2f}".format(loss.numpy()))

    train_and_checkpoint(net, manager)

    opt = tf.keras.optimizers.Adam(0.1)
    net = Net()
    dataset = toy_dataset()
    iterator = iter(dataset)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, "./tf_ckpts", max_to_keep=3)

    # (added: the model and the optimizer are built before the restore. TF 2.21 does not restore
    # a Keras 3 layer's or optimizer's variables created after the restore: the guide's deferred
    # restoration would leave the new model untrained there. gputensor restores them either way.)
    net(tf.zeros([1, 1]))
    opt.build(net.trainable_variables)

    train_and_checkpoint(net, manager)

    print(manager.checkpoints)  # List the three remaining checkpoints

    # (the guide's `!ls ./tf_ckpts`: the checkpoints' names without the suffixes, which differ)
    print(sorted({name.split(".")[0] for name in os.listdir("./tf_ckpts")}))

    to_restore = tf.Variable(tf.zeros([5]))
    print(to_restore.numpy())  # All zeros
    fake_layer = tf.train.Checkpoint(bias=to_restore)
    fake_net = tf.train.Checkpoint(l1=fake_layer)
    new_root = tf.train.Checkpoint(net=fake_net)
    status = new_root.restore(tf.train.latest_checkpoint("./tf_ckpts/"))
    print(to_restore.numpy())  # This gets the restored value.

    print(type(status.assert_existing_objects_matched()).__name__)

    delayed_restore = tf.Variable(tf.zeros([1, 5]))
    print(delayed_restore.numpy())  # Not restored; still zeros
    # (the guide's `fake_layer.kernel`: Keras 3's Dense keeps its kernel in `_kernel`, the name
    # its checkpoints use, so TF 2.21 restores nothing into `fake_layer.kernel`)
    fake_layer._kernel = delayed_restore
    print(delayed_restore.numpy())  # Restored

    reader = tf.train.load_checkpoint("./tf_ckpts/")
    shape_from_key = reader.get_variable_to_shape_map()
    dtype_from_key = reader.get_variable_to_dtype_map()

    print(sorted(shape_from_key.keys()))

    # (the guide's 'net/l1/kernel/...': Keras 3's Dense saves its kernel as `_kernel`)
    key = "net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"

    print("Shape:", shape_from_key[key])
    print("Dtype:", dtype_from_key[key].name)

    print(repr(reader.get_tensor(key)))

    save = tf.train.Checkpoint()
    save.listed = [tf.Variable(1.0)]
    save.listed.append(tf.Variable(2.0))
    save.mapped = {"one": save.listed[0]}
    save.mapped["two"] = save.listed[1]
    save_path = save.save("./tf_list_example")

    restore = tf.train.Checkpoint()
    v2 = tf.Variable(0.0)
    assert 0.0 == v2.numpy()  # Not restored yet
    restore.mapped = {"two": v2}
    restore.restore(save_path)
    assert 2.0 == v2.numpy()

    restore.listed = []
    print(restore.listed)  # ListWrapper([])
    v1 = tf.Variable(0.0)
    restore.listed.append(v1)  # Restores v1, from restore() in the previous cell
    assert 1.0 == v1.numpy()
