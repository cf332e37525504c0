//! The trees that expose the kernel, processes and devices rather than
//! files: never something to grant (`/proc/self/environ` alone would show
//! a guest corral's own environment).

use std::path::Path;

const SYSTEM_TREES: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The system tree `real` (a resolved path) is inside, if any.
pub fn system_tree(real: &Path) -> Option<&'static str> {
    SYSTEM_TREES
        .iter()
        .copied()
        .find(|root| real.starts_with(root))
}
