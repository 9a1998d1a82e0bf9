//! Sparse Adagrad on embedding tables: a batch touches a few thousand rows of a table that may
//! hold millions, so only those rows and their squared-gradient sums are updated.
//!
//! A batch's gradients arrive as slots (a row and its gradient); a row may appear in several
//! slots. Slots are grouped by row (a sort of the slot indices, so each group lists its slots in
//! slot order), a row's slots are summed and the row takes one Adagrad step, as a dense Adagrad
//! on the summed batch gradient would. Groups run in parallel in fixed-size runs, so no two
//! threads write one row and the result does not depend on the thread count.

use rayon::prelude::*;

/// One parameter table and its optimizer state: the only memory training holds per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub width: usize,
    pub data: Vec<f32>,
    /// Adagrad's running sum of squared gradients, per element.
    pub g2: Vec<f32>,
}

impl Table {
    pub fn new(data: Vec<f32>, width: usize) -> Self {
        let g2 = vec![0.0; data.len()];
        Table { width, data, g2 }
    }

    pub fn rows(&self) -> usize {
        self.data.len() / self.width
    }
}

/// Keeps Adagrad's step finite for an element that has seen no gradient yet.
const EPS: f32 = 1e-10;

/// Slots per parallel task; below this a batch is applied on the calling thread.
const RUN: usize = 2048;

struct SharedMut(*mut f32, *mut f32);
// SAFETY: `apply` hands each row to exactly one group, so writes through these pointers never
// overlap between threads.
unsafe impl Sync for SharedMut {}

/// Applies `grads` (one `width`-wide gradient per entry of `rows`) with learning rate `lr`.
pub fn apply(table: &mut Table, rows: &[u32], grads: &[f32], lr: f32) {
    let w = table.width;
    debug_assert_eq!(rows.len() * w, grads.len());
    let n_rows = table.rows();
    assert!(
        rows.iter().all(|&r| (r as usize) < n_rows),
        "slot row out of range"
    );
    // (row, slot) packed in one key: sorting it groups a row's slots in slot order
    let mut order: Vec<u64> = rows
        .iter()
        .enumerate()
        .map(|(slot, &r)| (r as u64) << 32 | slot as u64)
        .collect();
    order.sort_unstable();
    let ptr = SharedMut(table.data.as_mut_ptr(), table.g2.as_mut_ptr());
    let ptr = &ptr;
    let run = |keys: &[u64]| {
        let mut sum = vec![0.0f32; w];
        for group in keys.chunk_by(|a, b| a >> 32 == b >> 32) {
            let row = (group[0] >> 32) as usize;
            let first = &grads[(group[0] as u32) as usize * w..][..w];
            sum.copy_from_slice(first);
            for &key in &group[1..] {
                let g = &grads[(key as u32) as usize * w..][..w];
                for (s, x) in sum.iter_mut().zip(g) {
                    *s += x;
                }
            }
            // SAFETY: rows are in range (checked above) and each belongs to one group.
            let (data, g2) = unsafe {
                (
                    std::slice::from_raw_parts_mut(ptr.0.add(row * w), w),
                    std::slice::from_raw_parts_mut(ptr.1.add(row * w), w),
                )
            };
            step(data, g2, &sum, lr);
        }
    };
    if order.len() <= RUN || rayon::current_num_threads() == 1 {
        run(&order);
        return;
    }
    // cut runs only between rows, so a row's group never spans two tasks
    let mut cuts = vec![0];
    let mut at = RUN;
    while at < order.len() {
        while at < order.len() && order[at] >> 32 == order[at - 1] >> 32 {
            at += 1;
        }
        cuts.push(at);
        at += RUN;
    }
    cuts.push(order.len());
    cuts.dedup();
    cuts.par_windows(2).for_each(|c| run(&order[c[0]..c[1]]));
}

/// Adagrad on one scalar parameter (the curvature).
pub fn apply_scalar(value: &mut f32, g2: &mut f32, grad: f32, lr: f32) {
    step(
        std::slice::from_mut(value),
        std::slice::from_mut(g2),
        &[grad],
        lr,
    );
}

#[inline]
fn step(data: &mut [f32], g2: &mut [f32], g: &[f32], lr: f32) {
    for ((x, s), &gi) in data.iter_mut().zip(g2.iter_mut()).zip(g) {
        *s += gi * gi;
        *x -= lr * gi / (s.sqrt() + EPS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_rows_are_summed_whatever_the_run_cuts() {
        let mut a = Table::new(vec![1.0; 8], 2);
        let rows = [3, 1, 3, 0];
        let grads = [0.5, -1.0, 2.0, 2.0, 0.1, 0.1, -3.0, 1.0];
        apply(&mut a, &rows, &grads, 0.1);

        let mut b = Table::new(vec![1.0; 8], 2);
        let summed: [(usize, [f32; 2]); 3] = [(0, [-3.0, 1.0]), (1, [2.0, 2.0]), (3, [0.6, -0.9])];
        for (r, g) in summed {
            step(
                &mut b.data[r * 2..r * 2 + 2],
                &mut b.g2[r * 2..r * 2 + 2],
                &g,
                0.1,
            );
        }
        assert_eq!(a, b);
        // first step of Adagrad moves each touched element by lr
        assert!((a.data[2] - 0.9).abs() < 1e-6);

        // many slots over few rows: parallel runs must give what one run gives
        let rows: Vec<u32> = (0..10_000u32).map(|i| (i * 7919) % 97).collect();
        let grads: Vec<f32> = (0..20_000)
            .map(|i| ((i % 13) as f32 - 6.0) * 0.01)
            .collect();
        let mut par = Table::new(vec![0.5; 97 * 2], 2);
        apply(&mut par, &rows, &grads, 0.05);
        let mut seq = Table::new(vec![0.5; 97 * 2], 2);
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| apply(&mut seq, &rows, &grads, 0.05));
        assert_eq!(par, seq);
    }
}
