"""What the other folders share: parameter blocks from dicts, atomic writes, file locks, the CPU
allocator's settings and the data-parallel launch."""
