// Storages: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/storages`, details `/:team/storages/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'storages', label: 'Storages', icon: 'storages', order: 60 };

export const routes = [
  {
    path: '/:team/storages',
    title: 'Storages',
    access: 'team',
    view: comingSoon({
      title: 'Storages',
      icon: 'storages',
      text: 'Storages are S3-compatible buckets whose files a container can start with.',
      routes: ['GET /api/{teamSlug}/storages', 'POST /api/{teamSlug}/storages'],
    }),
  },
];
