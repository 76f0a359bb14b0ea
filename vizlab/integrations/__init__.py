"""Adapters that let existing training code (TensorBoard's SummaryWriter, Lightning, Hugging Face
Trainer) stream to Visdom through VisdomLogger. This package imports none of those frameworks;
each adapter module imports its own."""
