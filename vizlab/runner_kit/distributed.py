"""Helpers for runs started by torchrun (DDP); each is a no-op in a single process."""

import os

import torch

from vizlab.runner_kit import pick_device


def init_distributed(device_spec, parser=None):
    """(rank, world_size, device); joins the process group when started by torchrun.

    Under torchrun every process trains on its own device (cuda:LOCAL_RANK when CUDA is there)
    and talks over nccl on GPUs, gloo on CPUs. Without torchrun: (0, 1, pick_device(...)).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    # Under torchrun even one process joins the group, so `--nproc_per_node=1` tests the nccl/gloo set-up.
    if world_size == 1 and "TORCHELASTIC_RUN_ID" not in os.environ:
        return 0, 1, pick_device(device_spec, parser)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_spec, parser)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world_size, device


def rank_zero_first(fn, rank, world_size):
    """fn() on rank 0, then on the other ranks: one process downloads or extracts, the rest reuse it.

    An exception on rank 0 is raised on every rank, so no rank waits forever for a failed one.
    """
    if world_size == 1:
        return fn()
    import torch.distributed as dist

    result, error = None, [None]
    if rank == 0:
        try:
            result = fn()
        except Exception as exc:  # handed to every rank below
            error = [exc]
    dist.broadcast_object_list(error, src=0)
    if error[0] is not None:
        raise error[0]
    return result if rank == 0 else fn()


def all_reduce_sum(tensor, world_size):
    """Sum `tensor` over all ranks, in place (a no-op in a single process)."""
    if world_size > 1:
        import torch.distributed as dist

        dist.all_reduce(tensor)
    return tensor
