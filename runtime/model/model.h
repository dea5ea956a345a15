/* tritune: the BitNet b1.58 decoder (docs/background.md §1, §6), in the manner of
 * llama2.c's run.c: a Config, the Weights, a run State, init/free pairs and
 * a straight-line forward pass.  Every ternary matrix product goes through
 * the dispatch seam (tt_linear_forward), so tuned kernels are what runs.
 *
 * One block (the BitNet-b1.58-2B-4T layout; every config uses it):
 *   xn  = RMSNorm(x) * attn_norm
 *   q,k,v = BitLinear(xn)                    (activations int8 per token)
 *   q,k = RoPE(q,k)   ("rotate half": pairs (i, i + head_dim/2))
 *   a   = causal GQA attention over the KV cache
 *   x  += BitLinear_o(RMSNorm(a) * attn_sub_norm)
 *   hn  = RMSNorm(x) * ffn_norm
 *   g   = act(BitLinear_gate(hn)) * BitLinear_up(hn)   act = relu^2 | silu
 *   x  += BitLinear_down(RMSNorm(g) * ffn_sub_norm)
 * then logits = LM_head(RMSNorm(x) * final_norm); greedy = argmax.
 *
 * Model formats: the ternary ones (i2s, tl1, tl2) keep every BitLinear
 * packed and quantize activations per token; the baselines fp16 and fp32
 * hold the same weights dequantized (w * s_w) and run plain float matmuls
 * on unquantized activations (as llama.cpp's F16 path does), so all formats
 * compute the same function up to activation quantization.
 *
 * This header gathers the pieces; each has its own header and source:
 *   config.h     configurations (models/dummy/<name>.json)
 *   tensors.h    the one walk over a model's tensors, tensor ids and roles
 *   gen.h        the seeded weight generators
 *   fmat.h       float matrices (embedding, LM head, baselines), fp16
 *   weightfile.h the weight file: reading and writing
 *   load.h       the weights and how a model is built (generated, mapped, repacked)
 *   memory.h     the memory plan, checked before allocating
 *   forward.h    the run state and the forward pass
 *   profile.h    where a token's time goes (bench decode --profile)
 *   head.h       a quantized LM head's accuracy against fp16
 * Weight formats are rows of the traits table (seam/formats_table.h). */
#ifndef TT_MODEL_H
#define TT_MODEL_H

#include "model/config.h"
#include "model/fmat.h"
#include "model/forward.h"
#include "model/gen.h"
#include "model/head.h"
#include "model/load.h"
#include "model/memory.h"
#include "model/tensors.h"
#include "model/weightfile.h"

#endif
