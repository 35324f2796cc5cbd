/**
 * A small department-store catalogue: categories and products with stock-keeping units, so purchases
 * carry line items that recommendations can learn from. Prices are not fixed here: a purchase's total
 * follows the spend model and is shared out over its lines.
 */

export const CATEGORIES = [
  'home',
  'kitchen',
  'apparel',
  'footwear',
  'beauty',
  'electronics',
  'garden',
  'toys',
  'books',
  'sports',
  'baby',
  'pets',
] as const;

/** A product category of the catalogue. */
export type Category = (typeof CATEGORIES)[number];

export interface Product {
  sku: string;
  name: string;
  category: Category;
}

const NAMES: Record<Category, readonly string[]> = {
  home: [
    'Linen duvet cover',
    'Cotton bath towel',
    'Table lamp',
    'Scented candle',
    'Throw blanket',
    'Picture frame',
  ],
  kitchen: [
    'Chef knife',
    'Cast iron pan',
    'Coffee grinder',
    'Glass storage jars',
    'Stand mixer',
    'Tea kettle',
  ],
  apparel: ['Merino jumper', 'Denim jacket', 'Linen shirt', 'Rain coat', 'Wool scarf', 'Cotton T-shirt'],
  footwear: ['Leather boots', 'Running shoes', 'Canvas trainers', 'Slippers', 'Sandals'],
  beauty: ['Face cream', 'Shampoo', 'Hand soap', 'Lip balm', 'Sunscreen'],
  electronics: ['Wireless earbuds', 'Phone charger', 'Bluetooth speaker', 'E-reader', 'Smart plug'],
  garden: ['Pruning shears', 'Watering can', 'Herb seeds', 'Plant pot', 'Garden gloves'],
  toys: ['Building blocks', 'Jigsaw puzzle', 'Plush bear', 'Board game', 'Wooden train'],
  books: ['Cookbook', 'Crime novel', 'Travel guide', 'Picture book', 'Gardening handbook'],
  sports: ['Yoga mat', 'Water bottle', 'Bike light', 'Tennis balls', 'Resistance bands'],
  baby: ['Baby sleepsuit', 'Nappies', 'Baby bottle', 'Muslin cloths', 'Teething ring'],
  pets: ['Dog lead', 'Cat food', 'Pet bed', 'Chew toy', 'Bird seed'],
};

function buildCatalog(): Record<Category, readonly Product[]> {
  const catalog = {} as Record<Category, readonly Product[]>;
  for (const category of CATEGORIES) {
    catalog[category] = NAMES[category].map((name, i) => ({
      sku: `${category.slice(0, 3).toUpperCase()}-${String(i + 1).padStart(4, '0')}`,
      name,
      category,
    }));
  }
  return catalog;
}

/** Every product, grouped by category, with SKUs like `HOM-0003`. */
export const CATALOG: Readonly<Record<Category, readonly Product[]>> = buildCatalog();
