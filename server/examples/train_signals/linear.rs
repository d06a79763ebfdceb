//! Multinomial logistic regression on sparse features, by stochastic gradient descent with
//! AdaGrad step sizes and L2 regularisation applied to the coordinates each example touches.
//!
//! Hand-written on purpose: the crates that offer logistic regression (`linfa-logistic`,
//! `smartcore`) take dense `ndarray` matrices, and 14,000 examples × 65,542 hashed features
//! would be 3.7 GB dense; this is 80 lines and trains in about a second.

use baton::signals::SparseFeatures;

/// Hyper-parameters of one fit.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    pub l2: f32,
    pub epochs: usize,
    pub rate: f32,
}

/// Weights of a fitted model: `dim × classes` (feature-major) and one bias per class.
pub struct Weights {
    pub classes: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

impl Weights {
    pub fn probabilities(&self, x: &SparseFeatures) -> Vec<f32> {
        let mut logits = self.b.clone();
        for &(i, v) in &x.entries {
            let row = &self.w[i as usize * self.classes..(i as usize + 1) * self.classes];
            for (l, w) in logits.iter_mut().zip(row) {
                *l += w * v;
            }
        }
        baton::signals::softmax(&mut logits);
        logits
    }
}

/// A small deterministic generator (xorshift), so every run shuffles alike.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Fits `classes`-way logistic regression; `weights[i]` scales example i's loss.
pub fn train(xs: &[&SparseFeatures], ys: &[usize], weights: &[f32], dim: usize, classes: usize, fit: Fit) -> Weights {
    let mut model = Weights { classes, w: vec![0.0; dim * classes], b: vec![0.0; classes] };
    let mut g2 = vec![1e-6f32; dim * classes];
    let mut g2b = vec![1e-6f32; classes];
    let mut order: Vec<usize> = (0..xs.len()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..fit.epochs {
        rng.shuffle(&mut order);
        for &n in &order {
            let p = model.probabilities(xs[n]);
            for c in 0..classes {
                let err = weights[n] * (p[c] - if ys[n] == c { 1.0 } else { 0.0 });
                g2b[c] += err * err;
                model.b[c] -= fit.rate * err / g2b[c].sqrt();
                for &(i, v) in &xs[n].entries {
                    let k = i as usize * classes + c;
                    let g = err * v + fit.l2 * model.w[k];
                    g2[k] += g * g;
                    model.w[k] -= fit.rate * g / g2[k].sqrt();
                }
            }
        }
    }
    model
}

/// Macro-F1 over three classes.
pub fn macro_f1(gold: &[usize], predicted: &[usize]) -> f32 {
    let f1 = |c: usize| {
        let tp = gold.iter().zip(predicted).filter(|(g, p)| **g == c && **p == c).count() as f32;
        let fp = gold.iter().zip(predicted).filter(|(g, p)| **g != c && **p == c).count() as f32;
        let fn_ = gold.iter().zip(predicted).filter(|(g, p)| **g == c && **p != c).count() as f32;
        if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fn_) }
    };
    (f1(0) + f1(1) + f1(2)) / 3.0
}

/// Three classes from a score in [−1, 1]: negative below `neg`, positive above `pos`.
pub fn class(score: f32, neg: f32, pos: f32) -> usize {
    if score < neg {
        0
    } else if score > pos {
        2
    } else {
        1
    }
}
