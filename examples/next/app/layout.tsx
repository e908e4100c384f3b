import type { ReactNode } from 'react';

export const metadata = { title: 'cognito-guard example' };

export default function RootLayout({ children }: { readonly children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
