// Registries: a placeholder until its screens are built. To build them, replace `routes` below
// with the family's screens (list `/:team/registries`, details `/:team/registries/:id`, …) and keep `nav`.

import { comingSoon } from '../ui/placeholder.js';

export const nav = { path: 'registries', label: 'Registries', icon: 'registries', order: 20 };

export const routes = [
  {
    path: '/:team/registries',
    title: 'Registries',
    access: 'team',
    view: comingSoon({
      title: 'Registries',
      icon: 'registries',
      text: 'Registries are where the images of your versions come from.',
      routes: ['GET /api/{teamSlug}/registries', 'POST /api/{teamSlug}/registries'],
    }),
  },
];
