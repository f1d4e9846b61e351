CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, customer text NOT NULL, total numeric(12, 2) NOT NULL);
CREATE TABLE IF NOT EXISTS order_lines (order_id text NOT NULL REFERENCES orders (id), line_no int NOT NULL, sku text NOT NULL,
  quantity int NOT NULL, price numeric(10, 2) NOT NULL, PRIMARY KEY (order_id, line_no));
CREATE TABLE IF NOT EXISTS order_audit (order_id text PRIMARY KEY, total numeric(12, 2) NOT NULL);
