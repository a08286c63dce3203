/**
 * Optimizers and gradient clipping, formula for formula as {@code torch.optim} and {@code
 * torch.nn.utils.clip_grad_*}: {@link dev.rnn.autograd.optim.Optimizer} with {@link
 * dev.rnn.autograd.optim.Sgd}, {@link dev.rnn.autograd.optim.Adam}, {@link
 * dev.rnn.autograd.optim.AdamW} and {@link dev.rnn.autograd.optim.RmsProp}, each built by a small
 * fluent builder with torch's defaults, and {@link dev.rnn.autograd.optim.GradientClipping}.
 *
 * <p>Every optimizer reads each {@link dev.rnn.core.Parameter}'s live gradient and updates its live
 * value in place; its state is allocated once, when it is built, and a step allocates nothing.
 */
package dev.rnn.autograd.optim;
