#!/usr/bin/python3
"""Write tests/golden/balance.safetensors: the balancing methods' weights as LibMTL computes them,
for tests/test-balance.c to check the C engine's (engine/model/balance.c) against.

Run BY HAND (the test suite only reads the file), with Debian's Python:

    /usr/bin/python3 tests/golden/make_balance_golden.py [--ref PATH/hydranet_ref.py] [--out FILE]

The methods below follow LibMTL's code (LibMTL/weighting/*.py, median-research-group/LibMTL)
line for line, in PyTorch and autograd, with two differences the engine makes on purpose:
  - the gradient methods take each head's gradient at the shared feature as one vector (the
    whole batch x 512 tensor), where LibMTL's rep_grad mode sums it over the batch first;
  - FAMO and Uncertainty start warm from given weights (xi = ln w, s = -ln 2w), not from zero.
Gradients and the Gram matrix are in float64, as the engine forms its Gram matrix.

Tensors (case k = 0 ... CASES-1 for the gradient methods; steps t = 0 ... STEPS-1 for the loss ones):
  grads.K        (3, D) float32 gradients, of different scales and with conflicts
  order.K        (3, 3) float32: pcgrad's order of projection for each head (a permutation)
  mgda.K, imtl.K, pcgrad.K     (3) float64 weights
  losses         (STEPS, 3) float32 losses, as trained on, one row per step
  start          (3) float32: the weights in force when the loss methods start
  lr             (1) float32: uncertainty's learning rate
  normals        (STEPS, 3) float32 normal draws for rlw
  si, uncertainty, famo, rlw   (STEPS, 3) float64: each step's weights
"""
import argparse
import importlib.util
import os

import numpy as np
import torch
import torch.nn.functional as F

CASES, STEPS, D = 6, 8, 2048
SEED = 20261207


# ---- LibMTL's gradient methods, on grads (3, D) float64 ----

def mgda(grads):
    """MGDA._find_min_norm_element, with mgda_gn = 'none' (LibMTL's default)."""
    def from2(v1v1, v1v2, v2v2):
        if v1v2 >= v1v1:
            return 0.999, v1v1
        if v1v2 >= v2v2:
            return 0.001, v2v2
        gamma = -1.0 * ((v1v2 - v2v2) / (v1v1 + v2v2 - 2 * v1v2))
        return gamma, v2v2 + gamma * (v1v2 - v2v2)

    def min_norm_2d(g):
        dmin = 1e8
        for i in range(g.size()[0]):
            for j in range(i + 1, g.size()[0]):
                c, d = from2(g[i, i], g[i, j], g[j, j])
                if d < dmin:
                    dmin = d
                    sol = [(i, j), c, d]
        return sol

    def projection2simplex(y):
        m = len(y)
        sorted_y = torch.sort(y, descending=True)[0]
        tmpsum = 0.0
        tmax_f = (torch.sum(y) - 1.0) / m
        for i in range(m - 1):
            tmpsum += sorted_y[i]
            tmax = (tmpsum - 1) / (i + 1.0)
            if tmax > sorted_y[i + 1]:
                tmax_f = tmax
                break
        return torch.max(y - tmax_f, torch.zeros(m, dtype=y.dtype))

    def next_point(cur_val, grad, n):
        proj_grad = grad - (torch.sum(grad) / n)
        tm1 = -1.0 * cur_val[proj_grad < 0] / proj_grad[proj_grad < 0]
        tm2 = (1.0 - cur_val[proj_grad > 0]) / (proj_grad[proj_grad > 0])
        t = torch.ones(1, dtype=grad.dtype)
        if (tm1 > 1e-7).sum() > 0:
            t = torch.min(tm1[tm1 > 1e-7])
        if (tm2 > 1e-7).sum() > 0:
            t = torch.min(t, torch.min(tm2[tm2 > 1e-7]))
        return projection2simplex(proj_grad * t + cur_val)

    grad_mat = grads.mm(grads.t())
    init_sol = min_norm_2d(grad_mat)
    n = grads.size()[0]
    sol_vec = torch.zeros(n, dtype=grads.dtype)
    sol_vec[init_sol[0][0]] = init_sol[1]
    sol_vec[init_sol[0][1]] = 1 - init_sol[1]
    for _ in range(250):
        grad_dir = -1.0 * torch.matmul(grad_mat, sol_vec)
        new_point = next_point(sol_vec, grad_dir, n)
        v1v1 = torch.sum(sol_vec.unsqueeze(1).repeat(1, n) * sol_vec.unsqueeze(0).repeat(n, 1) * grad_mat)
        v1v2 = torch.sum(sol_vec.unsqueeze(1).repeat(1, n) * new_point.unsqueeze(0).repeat(n, 1) * grad_mat)
        v2v2 = torch.sum(new_point.unsqueeze(1).repeat(1, n) * new_point.unsqueeze(0).repeat(n, 1) * grad_mat)
        nc, nd = from2(v1v1, v1v2, v2v2)
        new_sol_vec = nc * sol_vec + (1 - nc) * new_point
        if torch.sum(torch.abs(new_sol_vec - sol_vec)) < 1e-5:
            return sol_vec
        sol_vec = new_sol_vec
    return sol_vec


def imtl_g(grads):
    """IMTL.backward without its loss-scale half (IMTL-L): the closed-form alpha."""
    task_num = grads.shape[0]
    grads_unit = grads / torch.norm(grads, p=2, dim=-1, keepdim=True)
    D_ = grads[0:1].repeat(task_num - 1, 1) - grads[1:]
    U = grads_unit[0:1].repeat(task_num - 1, 1) - grads_unit[1:]
    alpha = torch.matmul(torch.matmul(grads[0], U.t()), torch.inverse(torch.matmul(D_, U.t())))
    return torch.cat((1 - alpha.sum().unsqueeze(0), alpha), dim=0)


def pcgrad(grads, order):
    """PCGrad.backward's batch_weight, with order[i] in place of random.shuffle."""
    task_num = grads.shape[0]
    batch_weight = np.ones(task_num)
    pc_grads = grads.clone()
    for tn_i in range(task_num):
        for tn_j in order[tn_i]:
            g_ij = torch.dot(pc_grads[tn_i], grads[tn_j])
            if g_ij < 0:
                pc_grads[tn_i] -= g_ij * grads[tn_j] / (grads[tn_j].norm().pow(2) + 1e-8)
                batch_weight[tn_j] -= (g_ij / (grads[tn_j].norm().pow(2) + 1e-8)).item()
    return torch.tensor(batch_weight)


# ---- the loss methods: each step's weights are dloss/dL_i, by autograd ----

def weights_of(loss_fn, L):
    L = L.clone().double().requires_grad_(True)
    loss_fn(L).backward()
    return L.grad.detach().clone()


def scale_invariant(losses, start):
    w = start.double()
    return torch.stack([weights_of(lambda L: (w * L.log()).sum(), l) for l in losses])


def uncertainty(losses, start, lr):
    """UW: loss_scale s in the model's optimizer (Adam, no decay here), (L / 2e^s + s / 2).sum()."""
    s = (-torch.log(2 * start.double())).requires_grad_(True)
    opt = torch.optim.Adam([s], lr=lr)
    out = []
    for l in losses:
        L = l.clone().double().requires_grad_(True)
        opt.zero_grad()
        loss = (L / (2 * s.exp()) + s / 2).sum()
        loss.backward()
        out.append(L.grad.clone())
        opt.step()
    return torch.stack(out)


def famo(losses, start, w_lr=0.025, w_gamma=1e-3):
    """FAMO.backward, then FAMO.update_w with the next step's losses."""
    w = torch.log(start.double()).requires_grad_(True)
    w_opt = torch.optim.Adam([w], lr=w_lr, weight_decay=w_gamma)
    min_losses = torch.zeros(3, dtype=torch.float64)
    prev = None
    out = []
    for l in losses:
        curr = l.double()
        if prev is not None:
            delta = (prev - min_losses + 1e-8).log() - (curr - min_losses + 1e-8).log()
            with torch.enable_grad():
                d = torch.autograd.grad(F.softmax(w, -1), w, grad_outputs=delta.detach())[0]
            w_opt.zero_grad(set_to_none=False)
            w.grad = d
            w_opt.step()
        prev = curr

        def famo_loss(L):
            z = F.softmax(w, -1).detach()
            D_ = L - min_losses + 1e-8
            c = (z / D_).sum().detach()
            return (D_.log() * z / c).sum()
        out.append(weights_of(famo_loss, curr))
    return torch.stack(out)


def rlw(normals):
    return torch.stack([F.softmax(n.double(), dim=-1) for n in normals])


def make_grads(gen, k):
    """Three gradients of different scales (the age head's is the largest), some pairs in
    conflict; case 5 has two nearly parallel ones."""
    base = torch.randn(3, D, generator=gen, dtype=torch.float64)
    scale = torch.tensor([[20.0], [1.0], [0.5]], dtype=torch.float64) * (1 + k)
    g = base * scale
    if k % 2 == 1:
        g[1] -= 0.8 * g[0] * (g[1].norm() / g[0].norm())
    if k == 5:
        g[2] = 0.7 * g[0] + 0.01 * g[2]
    return g.float()


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser()
    p.add_argument("--ref", default=os.path.normpath(os.path.join(repo, "..", "shared", "reference",
                                                                  "hydranet_ref.py")))
    p.add_argument("--out", default=os.path.join(repo, "tests", "golden", "balance.safetensors"))
    a = p.parse_args()
    spec = importlib.util.spec_from_file_location("hydranet_ref", a.ref)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)

    gen = torch.Generator().manual_seed(SEED)
    out = {}
    for k in range(CASES):
        g = make_grads(gen, k)
        order = [torch.randperm(3, generator=gen).tolist() for _ in range(3)]
        g64 = g.double()
        out[f"grads.{k}"] = g
        out[f"order.{k}"] = torch.tensor(order, dtype=torch.float32)
        out[f"mgda.{k}"] = mgda(g64)
        out[f"imtl.{k}"] = imtl_g(g64)
        out[f"pcgrad.{k}"] = pcgrad(g64, order)

    # losses that fall with noise, the age's on a larger scale
    t = torch.arange(STEPS, dtype=torch.float64).unsqueeze(1)
    noise = torch.rand(STEPS, 3, generator=gen, dtype=torch.float64)
    losses = (torch.tensor([[0.9, 0.7, 1.6]], dtype=torch.float64) * torch.exp(-0.08 * t)
              * (0.9 + 0.2 * noise)).float()
    start = torch.tensor([3.0, 1.0, 1.0])
    lr = 0.01
    normals = torch.randn(STEPS, 3, generator=gen).float()
    out["losses"] = losses
    out["start"] = start
    out["lr"] = torch.tensor([lr])
    out["normals"] = normals
    out["si"] = scale_invariant(losses, start)
    out["uncertainty"] = uncertainty(losses, start, lr)
    out["famo"] = famo(losses, start)
    out["rlw"] = rlw(normals)
    ref.st_save(a.out, out, {"generator": "tests/golden/make_balance_golden.py",
                             "torch": torch.__version__})
    for k in range(CASES):
        print(k, "mgda", out[f"mgda.{k}"].numpy().round(4), "imtl", out[f"imtl.{k}"].numpy().round(4),
              "pcgrad", out[f"pcgrad.{k}"].numpy().round(4))
    print("famo last", out["famo"][-1].numpy().round(4), "uncertainty last",
          out["uncertainty"][-1].numpy().round(4))


if __name__ == "__main__":
    main()
