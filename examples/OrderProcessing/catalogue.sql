-- The product catalogue of the order-processing example.
CREATE TABLE IF NOT EXISTS catalogue_products (
  product_id text PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL,
  stock_level int NOT NULL, category text NOT NULL, active boolean NOT NULL DEFAULT TRUE);
INSERT INTO catalogue_products VALUES
  ('p1', 'Kettle', 24.95, 100, 'kitchen', TRUE), ('p2', 'Teapot', 18.50, 40, 'kitchen', TRUE),
  ('p3', 'Mug', 6.00, 500, 'kitchen', TRUE), ('p4', 'Lamp', 39.00, 12, 'home', TRUE),
  ('p5', 'Retired lamp', 29.00, 0, 'home', FALSE)
ON CONFLICT (product_id) DO NOTHING;
