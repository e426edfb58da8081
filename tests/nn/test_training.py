"""The one trainer of skfusion.nn (FusionNet), its device rule and its inference path."""

import ast
import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skorch import NeuralNet  # noqa: E402

from skfusion.datasets import make_multimodal_classification  # noqa: E402
from skfusion.nn import (  # noqa: E402
    ContrastiveAlignment,
    IntermediateFusionClassifier,
    IntermediateFusionRegressor,
)
from skfusion.nn._modules import FusionNetwork  # noqa: E402
from skfusion.nn._training import (  # noqa: E402
    INFERENCE_CHUNK_ROWS,
    FusionNet,
    HoldOutSplit,
    TensorData,
    inference_chunks,
    resolve_device,
)

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
ESTIMATORS = [IntermediateFusionClassifier, IntermediateFusionRegressor, ContrastiveAlignment]


@pytest.fixture(scope="module")
def data():
    X, y, modalities = make_multimodal_classification(120, {"a": 3, "b": 4}, random_state=0)
    return X, y, modalities


def _fit(estimator_class, X, y, modalities, **params):
    estimator = estimator_class(modalities, max_epochs=1, random_state=0, **params)
    return estimator.fit(X) if estimator_class is ContrastiveAlignment else estimator.fit(X, y)


# ---------------------------------------------------------------- device


def test_resolve_device_accepts_cpu_and_auto():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("device", ["tpu", "mps", "CPU", "cpu:0", "cuda:", "cuda:x", "cuda:-1",
                                    "", " cuda", "auto:0", None, 0])
def test_resolve_device_refuses_anything_else_naming_device(device):
    with pytest.raises(ValueError, match=r"`device` must be 'auto', 'cpu', 'cuda' or "
                                         r"'cuda:<index>'; got"):
        resolve_device(device)


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_resolve_device_refuses_cuda_without_cuda_naming_device(device):
    with pytest.raises(ValueError, match=r"`device='cuda.*no CUDA device.*device='auto'"):
        resolve_device(device)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_resolve_device_with_cuda():
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ValueError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_estimator_validates_device_the_same_way(data, estimator_class):
    X, y, modalities = data
    with pytest.raises(ValueError, match="`device` must be 'auto', 'cpu', 'cuda'.*got 'tpu'"):
        _fit(estimator_class, X, y, modalities, device="tpu")
    assert estimator_class(modalities).device == "auto"
    fitted = _fit(estimator_class, X, y, modalities, device="auto")
    assert fitted.device_ == resolve_device("auto")
    assert next(fitted.net_.module_.parameters()).device.type == torch.device(fitted.device_).type


@NO_CUDA
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_estimator_says_when_cuda_is_asked_for_and_absent(data, estimator_class):
    X, y, modalities = data
    with pytest.raises(ValueError, match="no CUDA device.*device='auto'"):
        _fit(estimator_class, X, y, modalities, device="cuda")
    assert not hasattr(estimator_class(modalities), "net_")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_estimator_trains_and_predicts_on_cuda(data, estimator_class):
    X, y, modalities = data
    fitted = _fit(estimator_class, X, y, modalities, device="cuda")
    assert fitted.device_ == "cuda"
    assert next(fitted.net_.module_.parameters()).is_cuda
    output = fitted.transform(X[:5])
    assert output.shape[0] == 5 and np.isfinite(output).all()


# ---------------------------------------------------------------- public skorch hooks only


def _private_skorch_names_used(cls):
    """Names of private NeuralNet attributes that ``cls``'s own code defines or reads."""
    tree = ast.parse(inspect.getsource(cls))
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    return sorted(
        name for name in names
        if name.startswith("_") and not name.startswith("__") and hasattr(NeuralNet, name)
    )


def test_fusion_net_overrides_and_calls_no_private_skorch_method():
    assert _private_skorch_names_used(FusionNet) == []
    for name in ("train_step", "validation_step", "evaluation_step", "get_loss", "infer",
                 "get_iterator", "forward_iter", "notify"):
        assert name in vars(FusionNet), name  # the public hooks it uses


def _counting_net(**params):
    class CountingNetwork(FusionNetwork):
        switches = []

        def train(self, mode=True):
            CountingNetwork.switches.append(mode)
            return super().train(mode)

    params = {"batch_size": 10, "max_epochs": 3, **params}
    net = FusionNet(
        CountingNetwork, module__columns=[[0, 1], [2]], module__n_outputs=2,
        module__latent_dim=4, criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW, verbose=0, device="cpu", **params,
    )
    return net, CountingNetwork.switches


def _tensor_data(n=60, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    return TensorData(x, torch.ones(n, 2, dtype=torch.bool), (x[:, 0] > 0).long())


def test_training_switches_the_module_mode_only_when_it_changes():
    # A new module is in training mode: 3 epochs x 6 batches switch nothing.
    net, switches = _counting_net(train_split=None)
    net.fit(_tensor_data(), None)
    assert switches == []
    # Each epoch trains, then validates: one switch each way per epoch, not per batch.
    net, switches = _counting_net(train_split=HoldOutSplit(np.arange(0, 60, 4)))
    net.fit(_tensor_data(), None)
    assert switches == [False, True, False, True, False]
    net.predict_tensor_data(_tensor_data(n=5))
    assert switches[-1] is False and len(switches) == 5  # already in eval mode


def test_each_step_clears_the_gradients_by_setting_them_to_none():
    net, _ = _counting_net(train_split=None)
    net.initialize()
    calls = []
    zero_grad = net.optimizer_.zero_grad

    def recording_zero_grad(set_to_none=True):
        calls.append((set_to_none, [p.grad is None for p in net.module_.parameters()]))
        zero_grad(set_to_none=set_to_none)

    net.optimizer_.zero_grad = recording_zero_grad
    net.partial_fit(_tensor_data(), None)  # 3 epochs x 6 batches
    assert [set_to_none for set_to_none, _ in calls] == [True] * 18
    # Before the first step there is no gradient; before every other one, the last step's.
    assert all(calls[0][1]) and not any(any(none) for _, none in calls[1:])
    assert all(p.grad is not None for p in net.module_.parameters())


# ---------------------------------------------------------------- inference path


def test_inference_chunks_pad_every_chunk_to_full_size():
    data = _tensor_data(n=23)
    data.present[3, 1] = False
    chunks = list(inference_chunks(data, 10))
    assert [n_rows for _, n_rows in chunks] == [10, 10, 3]
    assert all(batch["x"].shape == (10, 3) for batch, _ in chunks)
    last, n_rows = chunks[-1]
    assert torch.equal(last["x"][:3], data.x[20:]) and not last["x"][3:].any()
    assert last["present"][3:].all()
    assert not chunks[0][0]["present"][3, 1]


def test_predict_tensor_data_is_the_module_in_eval_mode_without_gradient():
    net, _ = _counting_net(train_split=None, max_epochs=1)
    torch.manual_seed(0)
    net.fit(_tensor_data(), None)
    data = _tensor_data(n=INFERENCE_CHUNK_ROWS["cpu"] * 2 + 7, seed=1)
    net.module_.train()
    out = net.predict_tensor_data(data)
    assert not net.module_.training
    assert out.dtype == np.float32 and out.shape == (len(data), 2)
    with torch.no_grad():
        expected = net.module_(data.x, data.present).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    fused = net.predict_tensor_data(data, method="transform")
    assert fused.shape == (len(data), 8)
    assert not any(isinstance(o, torch.Tensor) and o.requires_grad
                   for o in net.forward_iter(data))


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_one_row_runs_one_fixed_size_chunk_whatever_batch_size(data, estimator_class):
    X, y, modalities = data
    estimator = _fit(estimator_class, X, y, modalities, device="cpu", batch_size=16)
    rows_seen = []
    estimator.net_.module_.encoders[0].register_forward_pre_hook(
        lambda module, args: rows_seen.append(args[0].shape[0]))
    method = "transform" if estimator_class is ContrastiveAlignment else "predict"
    small = getattr(estimator, method)(X[:1])
    estimator.set_params(batch_size=2**20)
    large = getattr(estimator, method)(X[:1])
    np.testing.assert_array_equal(small, large)
    assert rows_seen == [INFERENCE_CHUNK_ROWS["cpu"]] * 2
    full = getattr(estimator, method)(X)
    np.testing.assert_array_equal(large, full[:1])


def test_contrastive_transform_runs_through_the_shared_inference_path(data, monkeypatch):
    X, _, modalities = data
    align = ContrastiveAlignment(modalities, max_epochs=1, device="cpu", random_state=0).fit(X)
    calls = []
    original = FusionNet.predict_tensor_data

    def spy(self, tensor_data, method="forward"):
        calls.append((len(tensor_data), method))
        return original(self, tensor_data, method)

    monkeypatch.setattr(FusionNet, "predict_tensor_data", spy)
    align.transform(X)
    align.score(X)
    assert calls == [(120, "transform"), (120, "transform")]
