"""Bundled data: the sample problem set, hand-written problems, a tiny benchmark for decontamination demos."""
