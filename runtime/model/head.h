/* tritune: the LM head's accuracy against fp16 (head.c), for
 * `bench decode --lm-head i8|q4`: what each byte saved costs.
 *
 * The reference is the same model with the LM head (and, when tied, the
 * embedding) in fp16, the ternary layers shared.  Both run the same greedy
 * generation, the reference's: the first token is seeded, every next one
 * is the reference's argmax, so the two always see the same context.  At
 * every step:
 *   rel_diff  max_v |logit_q[v] - logit_ref[v]| / (max logit_ref - min logit_ref)
 *   top1      argmax logit_q == argmax logit_ref
 *   kl        KL(softmax(ref) || softmax(q)), in nats, in double precision
 * reported as the largest rel_diff, the fraction of top-1 agreement and the
 * mean KL over the steps. */
#ifndef TT_MODEL_HEAD_H
#define TT_MODEL_HEAD_H

#include "core/pool.h"
#include "model/forward.h"
#include "model/load.h"
#include "model/weightfile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int tokens;        /* steps compared                   */
    double max_rel_diff;
    double top1;       /* fraction in [0, 1]               */
    double mean_kl;
} tt_head_accuracy;

/* m's LM head in fp16 (the tied embedding's rows when tied), from m's seed
 * or the weight file wf (may be NULL). */
tt_status tt_model_head_f16(const tt_model *m, tt_weightfile *wf, tt_fmat *out, tt_pool *pool);
/* Compare m's head with the fp16 one over `tokens` greedy steps (at most the
 * config's max_seq) from a token drawn from seed. */
tt_status tt_head_accuracy_run(const tt_model *m, tt_weightfile *wf, int tokens, uint64_t seed, tt_pool *pool,
                               tt_head_accuracy *out);

#ifdef __cplusplus
}
#endif
#endif
