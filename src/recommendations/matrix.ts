/**
 * Implicit feedback as the models read it: which customer bought which item (binary), in compressed
 * rows by customer and by item, with each item's number of buyers. Pure; indexes only, no names.
 */

/** A binary customer × item matrix in both orientations. */
export interface ImplicitMatrix {
  readonly users: number;
  readonly items: number;
  /** Row starts of `userItems` (length users + 1). */
  readonly userPtr: Int32Array;
  /** Items of each customer, ascending. */
  readonly userItems: Int32Array;
  /** Row starts of `itemUsers` (length items + 1). */
  readonly itemPtr: Int32Array;
  /** Customers of each item, ascending. */
  readonly itemUsers: Int32Array;
  /** Buyers per item. */
  readonly itemCounts: Float64Array;
}

/** Builds the matrix from each customer's set of items (indexes below `items`). */
export function buildImplicitMatrix(rows: readonly ReadonlySet<number>[], items: number): ImplicitMatrix {
  const users = rows.length;
  const userPtr = new Int32Array(users + 1);
  for (let u = 0; u < users; u++) userPtr[u + 1] = userPtr[u]! + rows[u]!.size;
  const userItems = new Int32Array(userPtr[users]!);
  const itemCounts = new Float64Array(items);
  for (let u = 0; u < users; u++) {
    const sorted = [...rows[u]!].sort((a, b) => a - b);
    userItems.set(sorted, userPtr[u]!);
    for (const i of sorted) {
      if (!(i >= 0 && i < items)) throw new RangeError(`item ${i} outside 0..${items - 1}`);
      itemCounts[i]!++;
    }
  }
  const itemPtr = new Int32Array(items + 1);
  for (let i = 0; i < items; i++) itemPtr[i + 1] = itemPtr[i]! + itemCounts[i]!;
  const fill = itemPtr.slice(0, items);
  const itemUsers = new Int32Array(userItems.length);
  for (let u = 0; u < users; u++) {
    for (let p = userPtr[u]!; p < userPtr[u + 1]!; p++) itemUsers[fill[userItems[p]!]!++] = u;
  }
  return { users, items, userPtr, userItems, itemPtr, itemUsers, itemCounts };
}

/** The items of customer `u`. */
export function itemsOf(matrix: ImplicitMatrix, u: number): Int32Array {
  return matrix.userItems.subarray(matrix.userPtr[u]!, matrix.userPtr[u + 1]!);
}

/** XᵀX as a dense row-major items × items matrix: co-purchase counts, buyers on the diagonal. */
export function computeCooccurrence(matrix: ImplicitMatrix): Float64Array {
  const n = matrix.items;
  const c = new Float64Array(n * n);
  for (let u = 0; u < matrix.users; u++) {
    const start = matrix.userPtr[u]!;
    const end = matrix.userPtr[u + 1]!;
    for (let p = start; p < end; p++) {
      const row = matrix.userItems[p]! * n;
      for (let q = start; q < end; q++) c[row + matrix.userItems[q]!]!++;
    }
  }
  return c;
}
