"""Tiers 1 and 3 for the public API on device="cuda": the layers, TwoLayerNet
and the linear-classifier functions give the CPU's numbers, keep their
results on the GPU, and follow the device of the arrays they are given."""
import numpy as np
import pytest
from numba import cuda

import fastnp
from fastnp import Affine, OutputLayer, ReLU, Sigmoid, TwoLayerNet

RTOL = 1e-10


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, 6))
    labels = rng.integers(0, 4, 9)
    return x, labels, np.eye(4)[labels]


def host(a):
    assert cuda.is_cuda_array(a) if hasattr(cuda, "is_cuda_array") else hasattr(a, "copy_to_host")
    return a.copy_to_host()


def test_two_layer_net_matches_cpu(launch_config, data):
    x, labels, t = data
    nets = {dev: TwoLayerNet(6, 5, 4, regularization=0.1, weight_init_std=0.5, seed=3, device=dev)
            for dev in ("cpu", "cuda")}
    gx, gt, g_labels = cuda.to_device(x), cuda.to_device(t), cuda.to_device(labels)
    for step in range(3):
        loss_cpu = nets["cpu"].loss(x, labels)
        assert nets["cuda"].loss(gx, gt) == pytest.approx(loss_cpu, rel=RTOL)
        assert nets["cuda"].loss(x, labels) == pytest.approx(loss_cpu, rel=RTOL)  # host inputs are copied over
        assert nets["cuda"].loss(gx, g_labels) == pytest.approx(loss_cpu, rel=RTOL)  # GPU labels, used there
        assert nets["cuda"].accuracy(gx, labels) == nets["cpu"].accuracy(x, labels)
        assert nets["cuda"].accuracy(gx, g_labels) == nets["cpu"].accuracy(x, t)
        g_cpu, g_gpu = nets["cpu"].gradient(x, t), nets["cuda"].gradient(gx, g_labels if step else gt)
        for key in g_cpu:
            np.testing.assert_allclose(host(g_gpu[key]), g_cpu[key], rtol=RTOL, atol=1e-13, err_msg=key)
        for net in nets.values():
            net.update_params(0.3)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(host(nets["cuda"].params[key]), nets["cpu"].params[key], rtol=RTOL, atol=1e-13)
        # the layers still share the net's parameter arrays on the GPU
    assert nets["cuda"].layers["Affine1"].W is nets["cuda"].params["W1"]
    num_cpu = nets["cpu"].numerical_gradient(x, t)
    num_gpu = nets["cuda"].numerical_gradient(gx, gt)
    for key in num_cpu:
        np.testing.assert_allclose(host(num_gpu[key]), num_cpu[key], rtol=0, atol=1e-9, err_msg=key)
    np.testing.assert_allclose(host(nets["cuda"].predict(gx)), nets["cpu"].predict(x), rtol=RTOL)


def test_save_and_load_across_devices(launch_config, tmp_path, data):
    x, labels, _ = data
    net = TwoLayerNet(6, 5, 4, weight_init_std=0.5, seed=1, device="cuda")
    net.save(tmp_path / "net.npz")
    back = TwoLayerNet.load(tmp_path / "net.npz")
    assert back.device == "cpu"
    assert back.loss(x, labels) == pytest.approx(net.loss(x, labels), rel=RTOL)
    again = TwoLayerNet.load(tmp_path / "net.npz", device="cuda")
    np.testing.assert_array_equal(host(again.params["W1"]), back.params["W1"])


def test_layers_follow_their_inputs(launch_config, data):
    x, labels, t = data
    gx = cuda.to_device(x)
    for layer_type in (ReLU, Sigmoid):
        cpu_layer, gpu_layer = layer_type(), layer_type()
        out = gpu_layer.forward(gx)
        np.testing.assert_allclose(host(out), cpu_layer.forward(x), rtol=1e-12)
        dout = np.cos(x)
        np.testing.assert_allclose(host(gpu_layer.backward(cuda.to_device(dout))), cpu_layer.backward(dout),
                                   rtol=1e-12)
    scores = np.ascontiguousarray(x[:, :4])
    out_cpu, out_gpu = OutputLayer(), OutputLayer()
    loss_cpu = out_cpu.forward(scores, labels)
    assert out_gpu.forward(cuda.to_device(scores), cuda.to_device(t)) == pytest.approx(loss_cpu, rel=1e-12)
    np.testing.assert_allclose(host(out_gpu.backward(2.0)), out_cpu.backward(2.0), rtol=1e-12)
    np.testing.assert_allclose(host(out_gpu.y), out_cpu.y, rtol=1e-12)

    W, b = np.sin(np.arange(24.0)).reshape(6, 4), np.linspace(-1, 1, 4)
    aff_cpu, aff_gpu = Affine(W, b), Affine(W, b, device="cuda")
    np.testing.assert_allclose(host(aff_gpu.forward(x)), aff_cpu.forward(x), rtol=1e-12)
    dout = np.cos(np.arange(36.0)).reshape(9, 4)
    np.testing.assert_allclose(host(aff_gpu.backward(dout)), aff_cpu.backward(dout), rtol=1e-12)
    np.testing.assert_allclose(host(aff_gpu.dW), aff_cpu.dW, rtol=1e-12)
    np.testing.assert_allclose(host(aff_gpu.db), aff_cpu.db, rtol=1e-12)
    # A GPU W is used where it lives, without a copy
    gW = cuda.to_device(W)
    assert Affine(gW, b).W is gW


def test_functions_on_the_gpu(launch_config, data):
    x, labels, t = data
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((6, 4)) * 0.1, np.zeros((1, 4))
    np.testing.assert_allclose(host(fastnp.softmax(cuda.to_device(x))), fastnp.softmax(x), rtol=1e-12)
    np.testing.assert_allclose(host(fastnp.softmax(x[0], device="cuda")), fastnp.softmax(x[0]), rtol=1e-12)
    p = fastnp.softmax(x)
    assert fastnp.cross_entropy_loss(cuda.to_device(p), labels) == pytest.approx(
        fastnp.cross_entropy_loss(p, labels), rel=1e-12)
    np.testing.assert_allclose(host(fastnp.linear_pred(x, W, b, device="cuda")), fastnp.linear_pred(x, W, b),
                               rtol=1e-12)
    assert fastnp.linear_cost_func(cuda.to_device(x), t, W, b) == pytest.approx(
        fastnp.linear_cost_func(x, t, W, b), rel=1e-12)
    W0 = W.copy()
    gW = cuda.to_device(W)
    for fn, extra in ((fastnp.batch_gradient_descent_func, {}),
                      (fastnp.stochastic_gradient_descent_func, {"mini_batch": 3, "random_seed": 5})):
        cpu_out = fn(x, labels, W, b, 6, 0.5, record_every=4, **extra)
        gpu_out = fn(cuda.to_device(x), labels, gW, b, 6, 0.5, record_every=4, **extra)
        for want, got in zip(cpu_out, gpu_out):
            np.testing.assert_allclose(host(got), want, rtol=1e-10, atol=1e-13)
        assert gpu_out[1].shape == (1, 4)
    np.testing.assert_array_equal(gW.copy_to_host(), W0)  # the caller's arrays are untouched


def test_gpu_inputs_are_not_converted(launch_config):
    with pytest.raises(TypeError, match="convert it first"):
        fastnp.softmax(cuda.to_device(np.arange(6).reshape(2, 3)))
    net = TwoLayerNet(3, 2, 2, device="cuda", dtype=np.float32)
    with pytest.raises(TypeError, match="float32"):
        net.predict(cuda.to_device(np.ones((2, 3))))
    with pytest.raises(ValueError, match="device"):
        fastnp.softmax(np.ones((2, 3)), device="gpu")


def test_a_swapped_hidden_layer_on_the_gpu(launch_config):
    """Sigmoid in Relu1's place: the GPU net follows its layers, and its numerical
    gradient (the textbook's loop, one element copied at a time) matches the CPU's.
    A 2-2-2 net: the simulator runs a dozen launches per loss."""
    rng = np.random.default_rng(9)
    x, labels = rng.standard_normal((3, 2)), np.array([0, 1, 1])
    nets = {dev: TwoLayerNet(2, 2, 2, regularization=0.1, weight_init_std=0.5, seed=3, device=dev)
            for dev in ("cpu", "cuda")}
    for net in nets.values():
        net.layers["Relu1"] = Sigmoid(device=net.device)
    assert nets["cuda"].loss(x, labels) == pytest.approx(nets["cpu"].loss(x, labels), rel=RTOL)
    g_cpu, g_gpu = nets["cpu"].gradient(x, labels), nets["cuda"].gradient(x, labels)
    num_cpu, num_gpu = nets["cpu"].numerical_gradient(x, labels), nets["cuda"].numerical_gradient(x, labels)
    for key in g_cpu:
        np.testing.assert_allclose(host(g_gpu[key]), g_cpu[key], rtol=RTOL, atol=1e-13, err_msg=key)
        np.testing.assert_allclose(host(num_gpu[key]), num_cpu[key], rtol=0, atol=1e-9, err_msg=key)
        np.testing.assert_array_equal(host(nets["cuda"].params[key]), nets["cpu"].params[key])  # all put back


def test_the_course_experiments_on_the_gpu(launch_config, monkeypatch):
    """fastnp.train (what `fastnp train --device cuda` and `fastnp gradcheck
    --device cuda` run) gives the CPU's numbers on tiny random data."""
    from fastnp import train
    from fastnp.datasets import CIFAR10

    rng = np.random.default_rng(11)
    labels, test_labels = rng.integers(0, 4, 12), rng.integers(0, 4, 5)
    data = CIFAR10(rng.standard_normal((12, 6)), labels, np.eye(4)[labels],
                   rng.standard_normal((5, 6)), test_labels, np.eye(4)[test_labels], tuple("abcd"))
    monkeypatch.setattr(train, "LINEAR_CHUNK", 5)  # the weights carried over from one chunk to the next
    linear = {dev: train.train_linear(data, iterations=8, alpha=0.1, mini_batch=3, seed=2,
                                      progress=False, device=dev) for dev in ("cpu", "cuda")}
    (W_cpu, b_cpu, h_cpu), (W_gpu, b_gpu, h_gpu) = linear["cpu"], linear["cuda"]
    assert type(W_gpu) is np.ndarray and type(b_gpu) is np.ndarray and h_gpu["settings"]["device"] == "cuda"
    np.testing.assert_allclose(W_gpu, W_cpu, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(b_gpu, b_cpu, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=RTOL)
    assert (h_gpu["train_acc"], h_gpu["test_acc"]) == (h_cpu["train_acc"], h_cpu["test_acc"])

    nets = {dev: train.train_twolayer(data, hidden_size=5, batch_size=5, iterations=3, seed=3, progress=False,
                                      log=lambda message: None, device=dev) for dev in ("cpu", "cuda")}
    (net_cpu, h_cpu), (net_gpu, h_gpu) = nets["cpu"], nets["cuda"]
    assert net_gpu.device == "cuda" and h_gpu["settings"]["device"] == "cuda"
    np.testing.assert_allclose(h_gpu["loss"], h_cpu["loss"], rtol=RTOL)
    assert h_gpu["train_acc"] == h_cpu["train_acc"] and h_gpu["final_test_acc"] == h_cpu["final_test_acc"]
    np.testing.assert_allclose(host(net_gpu.params["W1"]), net_cpu.params["W1"], rtol=RTOL, atol=1e-14)

    check = train.gradcheck(data, hidden_size=3, n_images=4, seed=1, device="cuda")
    assert check["settings"]["device"] == "cuda" and max(check["mean_abs_diff"].values()) < 1e-8
