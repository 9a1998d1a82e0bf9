//! Sparse Adagrad on embedding tables: a batch touches a few thousand rows of a table that may
//! hold millions, so only those rows and their squared-gradient sums are updated.
//!
//! A batch's gradients arrive as slots (a row and its gradient); a row may appear in several
//! slots. The update runs in parallel over row partitions (`row % threads`), each partition
//! applying its slots in slot order, so no two threads write one row and the result does not
//! depend on the thread count.

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

struct SharedMut(*mut f32, *mut f32);
// SAFETY: `apply` hands each row to exactly one partition, so writes through these pointers
// never overlap between threads.
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
    let parts = rayon::current_num_threads().max(1) as u32;
    let ptr = SharedMut(table.data.as_mut_ptr(), table.g2.as_mut_ptr());
    let ptr = &ptr;
    (0..parts).into_par_iter().for_each(|p| {
        for (slot, &row) in rows.iter().enumerate() {
            if row % parts != p {
                continue;
            }
            let g = &grads[slot * w..][..w];
            // SAFETY: rows are in range (checked above) and owned by partition `p` alone.
            let (data, g2) = unsafe {
                (
                    std::slice::from_raw_parts_mut(ptr.0.add(row as usize * w), w),
                    std::slice::from_raw_parts_mut(ptr.1.add(row as usize * w), w),
                )
            };
            step(data, g2, g, lr);
        }
    });
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
    fn repeated_rows_apply_in_slot_order_whatever_the_threads() {
        let mut a = Table::new(vec![1.0; 8], 2);
        let rows = [3, 1, 3, 0];
        let grads = [0.5, -1.0, 2.0, 2.0, 0.1, 0.1, -3.0, 1.0];
        apply(&mut a, &rows, &grads, 0.1);

        let mut b = Table::new(vec![1.0; 8], 2);
        for (slot, &r) in rows.iter().enumerate() {
            let r = r as usize;
            step(
                &mut b.data[r * 2..r * 2 + 2],
                &mut b.g2[r * 2..r * 2 + 2],
                &grads[slot * 2..slot * 2 + 2],
                0.1,
            );
        }
        assert_eq!(a, b);
        // first step of Adagrad moves each touched element by lr
        assert!((a.data[2] - 0.9).abs() < 1e-6);
    }
}
